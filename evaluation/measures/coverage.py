"""Coverage along the sitting: which moments of the film has the model learned?

A real frame is covered when some fake falls inside its neighbourhood: the ball reaching its k-th nearest other
real frame (k = 3), with the frames within --copy-window seconds of it in the same source left out, as for
memorisation and precision_video (consecutive frames would make every ball tiny). This is the coverage of Naeem et
al. 2020 with temporal exclusion. The value is the covered share of the frames that have a neighbourhood (a frame
with fewer than k frames outside its window has none and is not judged).

The details keep, per source file, a timeline: the covered share in up to TIMELINE_BINS equal stretches of time
(smoothing over neighbouring frames), and the longest runs of consecutive uncovered frames with their times and a
few of their frames, so that the report can say "the model never learned minutes 12 to 14".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluation.measures.base import Inputs, Measured, Metric, plain_column, plain_summary

NEIGHBOURHOOD = 3
TIMELINE_BINS = 120
STRETCHES = 5


@dataclass
class Coverage:
    covered: np.ndarray  # bool [N]: some fake inside the frame's neighbourhood
    judged: np.ndarray  # bool [N]: the frame has a neighbourhood

    @property
    def share(self) -> float | None:
        return float(self.covered[self.judged].mean()) if self.judged.any() else None


def coverage(real, fake, index, window_s: float, k: int = NEIGHBOURHOOD) -> Coverage:
    """Per real frame, covered or not, from [N, D] real and [M, D] fake features."""
    import torch

    from evaluation.inception import full_fp32
    from evaluation.memorisation import nearest, temporal_exclusion
    from evaluation.precision_recall import kth_neighbour_radii

    real_t = torch.as_tensor(np.asarray(real) if not isinstance(real, torch.Tensor) else real).float()
    fake_t = torch.as_tensor(np.asarray(fake) if not isinstance(fake, torch.Tensor) else fake).float()
    fake_t = fake_t.to(real_t.device)
    with torch.inference_mode(), full_fp32():
        radii = kth_neighbour_radii(real_t, k, exclude=temporal_exclusion(index, window_s, real_t.device))
    distance, _ = nearest(real_t, fake_t)
    radii = radii.double().cpu().numpy()
    distance = distance.cpu().numpy()
    judged = np.isfinite(radii)
    return Coverage(judged & (distance ** 2 <= radii), judged)


def frame_times(index, count: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(source, time, unit) per frame: seconds when the dataset has them, else frame numbers in one sequence."""
    if index.timed:
        return np.asarray(index.sources, np.int64), np.asarray(index.times, np.float64), "s"
    return np.zeros(count, np.int64), np.arange(count, dtype=np.float64), "frame"


def timeline(result: Coverage, sources: np.ndarray, times: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """Per source: its time span and the covered share of the judged frames in equal bins (None: no frame judged)."""
    out = []
    for source in np.unique(sources):
        mine = np.flatnonzero(sources == source)
        t = times[mine]
        start, end = float(t.min()), float(t.max())
        bins = min(TIMELINE_BINS, len(mine))
        which = np.minimum(((t - start) / ((end - start) or 1.0) * bins).astype(np.int64), bins - 1)
        shares = []
        for b in range(bins):
            judged = result.judged[mine][which == b]
            covered = result.covered[mine][which == b]
            shares.append(round(float(covered[judged].mean()), 4) if judged.any() else None)
        out.append({"source": int(source), "name": names[int(source)] if int(source) < len(names) else str(source),
                    "start": start, "end": end, "frames": int(len(mine)), "bins": shares})
    return out


def uncovered_stretches(result: Coverage, sources: np.ndarray, times: np.ndarray, names: list[str],
                        labels: list[str], count: int = STRETCHES) -> list[dict[str, Any]]:
    """The longest runs of consecutive uncovered frames (in time order within a source), longest first."""
    runs = []
    for source in np.unique(sources):
        mine = np.flatnonzero(sources == source)
        mine = mine[np.argsort(times[mine], kind="stable")]
        mine = mine[result.judged[mine]]
        current: list[int] = []
        for frame in [*mine, -1]:
            if frame >= 0 and not result.covered[frame]:
                current.append(int(frame))
                continue
            if current:
                runs.append((int(source), current))
            current = []
    stretches = []
    for source, frames in runs:
        start, end = float(times[frames[0]]), float(times[frames[-1]])
        shown = sorted({frames[0], frames[len(frames) // 2], frames[-1]})
        stretches.append({"source": source, "name": names[source] if source < len(names) else str(source),
                          "start": start, "end": end, "frames": len(frames), "shown": shown,
                          "shown_from": [labels[f] for f in shown]})
    stretches.sort(key=lambda s: (-(s["end"] - s["start"]), -s["frames"], s["source"], s["start"]))
    return stretches[:count]


def compute(inputs: Inputs) -> list[Measured]:
    details: dict[str, Any] = {"k": NEIGHBOURHOOD, "window_s": inputs.copy_window_s,
                               "reference_note": inputs.index.note}
    if inputs.real.shape[0] <= NEIGHBOURHOOD:
        return [("coverage", None, {**details, "note": f"needs more than {NEIGHBOURHOOD} real frames"})]
    result = coverage(inputs.real, inputs.fake, inputs.index, inputs.copy_window_s)
    sources, times, unit = frame_times(inputs.index, inputs.real.shape[0])
    from evaluation.memorisation import source_names

    names = source_names(inputs.dataset) or ["frames"]
    details.update(unit=unit, judged=int(result.judged.sum()), covered=int(result.covered.sum()),
                   timeline=timeline(result, sources, times, names),
                   stretches=uncovered_stretches(result, sources, times, names, inputs.index.labels))
    if result.share is None:
        details["note"] = (f"no real frame has {NEIGHBOURHOOD} neighbours outside +-{inputs.copy_window_s:g} s of "
                           "its own source")
    return [("coverage", result.share, details)]


METRIC = Metric(
    name="coverage", records=("coverage",), compute=compute,
    columns=(plain_column("coverage", "coverage", ".3f"),), summary=plain_summary("coverage", "coverage", ".3f"),
    help="share of real frames with a fake inside their neighbourhood (k = 3, --copy-window neighbours\n"
         "left out); the report draws it along each source's time and lists the longest uncovered stretches")
