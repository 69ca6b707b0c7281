"""Does the model copy training frames? Each fake's distance to its nearest training frame, judged against how close
real frames come to each other.

A per-person dataset is a film of one sitter: a model that memorised it shows frames back instead of new moments.
For every fake we take the L2 distance (Inception features) to its nearest real frame. What counts as "close" comes
from the real frames themselves: each real frame's distance to its nearest *other* frame, leaving out the frames
within +-window seconds of the same source (consecutive video frames are near-identical; with them in, the
reference would be almost zero and no fake could ever look like a copy). A fake nearer to a training frame than
`percentile` % of real frames are to their nearest non-adjacent frame is a near-copy. The default, the 5th
percentile, flags fakes closer than all but the closest 5% of real pairs: a model that generalises produces
about 5% or fewer of those by chance; one that memorised produces many more.

The frames' sources and times come from the dataset's `frames` index (written by `likeness prepare`). Without it
(NVIDIA zips, image folders) only the frame itself is left out, and the result says so: its threshold is then too
low, because consecutive frames count as neighbours, and the share of near-copies is understated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from evaluation.inception import full_fp32
from training.footage.timecode import format_clock

DEFAULT_PERCENTILE = 5.0
DEFAULT_WINDOW_S = 1.0
CLOSEST_PAIRS = 8


@dataclass
class FrameIndex:
    """Where each dataset frame came from: source number and time in seconds (None where not known)."""

    sources: np.ndarray | None  # int64 [N]
    times: np.ndarray | None  # float64 [N], seconds into the source
    labels: list[str]  # per frame, for people: "sitter.mp4 00:03.200", or the frame's name in the dataset
    note: str  # how temporal neighbours were handled, in words

    @property
    def timed(self) -> bool:
        return self.sources is not None and self.times is not None


def source_names(dataset) -> list[str]:
    """The names of the dataset's source files, in the order of its provenance (empty when it names none)."""
    sources = (dataset.provenance or {}).get("sources") or []
    return [str(s.get("name") or s.get("path") or i) if isinstance(s, dict) else str(s) for i, s in enumerate(sources)]


def frame_index(dataset, window_s: float = DEFAULT_WINDOW_S) -> FrameIndex:
    """The dataset's per-frame index, when its provenance has one that fits the frames."""
    names = list(dataset.names)
    frames = (dataset.provenance or {}).get("frames")
    sources = source_names(dataset)
    if not isinstance(frames, list) or len(frames) != len(names) or not all(
            isinstance(f, (list, tuple)) and len(f) == 2 and isinstance(f[0], int) for f in frames):
        return FrameIndex(None, None, names, "the dataset has no per-frame index (source and time), so consecutive "
                          "frames were not left out of the reference: its threshold is too low and near-copies are "
                          "understated; datasets made by `likeness prepare` have the index")

    def source_name(i: int) -> str:
        return sources[i] if 0 <= i < len(sources) else f"source {i}"

    if all(isinstance(f[1], (int, float)) and not isinstance(f[1], bool) for f in frames):
        src = np.array([f[0] for f in frames], np.int64)
        times = np.array([f[1] for f in frames], np.float64)
        labels = [f"{source_name(int(s))} {format_clock(float(t))}" for s, t in zip(src, times)]
        return FrameIndex(src, times, labels, f"real frames within +-{window_s:g} s of the same source were left "
                          "out of each frame's reference (consecutive video frames are near-identical)")
    labels = [f"{source_name(int(f[0]))} {f[1]}" for f in frames]
    return FrameIndex(None, None, labels, "the dataset's frames are still images without times, so only each "
                      "frame itself was left out of the reference")


# -- nearest neighbours, in blocks ----------------------------------------------------------------------------------

def _squared(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a * a).sum(1, keepdim=True) + (b * b).sum(1)[None, :] - 2 * (a @ b.T)).clamp_min_(0)


def nearest(queries: torch.Tensor, refs: torch.Tensor, exclude=None, *, row_batch: int = 1024,
            col_batch: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """(distance, index) of each query's nearest ref; exclude(rows, cols) -> bool [r, c] masks pairs out.

    The search runs in float32 (TF32 off) through matrix products; the distance of the chosen pair is then
    recomputed directly in float64, so that near-zero distances are not lost to cancellation."""
    best_d = torch.full([queries.shape[0]], float("inf"), dtype=queries.dtype, device=queries.device)
    best_i = torch.full([queries.shape[0]], -1, dtype=torch.int64, device=queries.device)
    with torch.inference_mode(), full_fp32():
        for r0 in range(0, queries.shape[0], row_batch):
            rows = torch.arange(r0, min(r0 + row_batch, queries.shape[0]), device=queries.device)
            for c0 in range(0, refs.shape[0], col_batch):
                cols = torch.arange(c0, min(c0 + col_batch, refs.shape[0]), device=refs.device)
                d = _squared(queries[rows], refs[cols])
                if exclude is not None:
                    d = d.masked_fill(exclude(rows, cols), float("inf"))
                value, where = d.min(dim=1)
                better = value < best_d[rows]
                best_d[rows] = torch.where(better, value, best_d[rows])
                best_i[rows] = torch.where(better, cols[where], best_i[rows])
        found = best_i >= 0
        exact = torch.full_like(best_d, float("inf"), dtype=torch.float64)
        if found.any():
            q = queries[found].double()
            exact[found] = (q - refs[best_i[found]].double()).norm(dim=1)
    return exact, best_i


def temporal_exclusion(index: FrameIndex, window_s: float, device: torch.device | str):
    """exclude(rows, cols) -> bool [r, c]: True where two real frames may not be each other's neighbours: the frame
    itself, and (when the dataset has times) the frames within +-window_s seconds of it in the same source."""
    src = torch.as_tensor(index.sources, device=device) if index.timed else None
    times = torch.as_tensor(index.times, device=device) if index.timed else None

    def exclude(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        mask = rows[:, None] == cols[None, :]
        if src is not None:
            same = src[rows][:, None] == src[cols][None, :]
            close = (times[rows][:, None] - times[cols][None, :]).abs() <= window_s + 1e-9
            mask |= same & close
        return mask

    return exclude


def real_reference(real: torch.Tensor, index: FrameIndex, window_s: float) -> torch.Tensor:
    """Each real frame's distance to its nearest other frame, temporal neighbours left out (inf when none is left)."""
    distance, _ = nearest(real, real, temporal_exclusion(index, window_s, real.device))
    return distance


# -- the check -----------------------------------------------------------------------------------------------------

@dataclass
class MemorisationResult:
    share: float | None  # near-copies / fakes; None when the reference is empty
    threshold: float | None
    fake_distance: np.ndarray  # float64 [M]
    fake_neighbour: np.ndarray  # int64 [M], index of the nearest real frame
    reference: np.ndarray  # finite reference distances of the real frames
    note: str
    percentile: float
    window_s: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        if self.threshold is None:
            return 0
        return int((self.fake_distance < self.threshold).sum())


def memorisation(real, fake, index: FrameIndex, *, percentile: float = DEFAULT_PERCENTILE,
                 window_s: float = DEFAULT_WINDOW_S, device: torch.device | str | None = None) -> MemorisationResult:
    """Near-copies among the fakes, from [N, D] real and [M, D] fake features (arrays or tensors)."""
    real_t = torch.as_tensor(np.asarray(real) if not isinstance(real, torch.Tensor) else real)
    real_t = real_t.to(device=device or real_t.device, dtype=torch.float32)
    fake_t = torch.as_tensor(np.asarray(fake) if not isinstance(fake, torch.Tensor) else fake)
    fake_t = fake_t.to(device=real_t.device, dtype=torch.float32)
    reference = real_reference(real_t, index, window_s).cpu().numpy()
    reference = reference[np.isfinite(reference)]
    distance, neighbour = nearest(fake_t, real_t)
    distance, neighbour = distance.cpu().numpy(), neighbour.cpu().numpy()
    note = index.note
    if reference.size == 0:
        threshold, share = None, None
        note = (f"no real frame has a neighbour outside +-{window_s:g} s of its own source, so there is no "
                "reference to judge near-copies by; the check needs frames from more than that much footage")
    else:
        threshold = float(np.percentile(reference, percentile))
        share = float((distance < threshold).mean())
    return MemorisationResult(share, threshold, distance, neighbour, reference, note, percentile, window_s)


def closest_pairs(result: MemorisationResult, index: FrameIndex, names: list[str],
                  count: int = CLOSEST_PAIRS) -> list[dict[str, Any]]:
    """The fakes nearest to a training frame, nearest first: seed, frame, where the frame came from, distance."""
    order = np.argsort(result.fake_distance, kind="stable")[:count]
    pairs = []
    for seed in order:
        frame = int(result.fake_neighbour[seed])
        pairs.append({"seed": int(seed), "frame": frame, "frame_name": names[frame], "from": index.labels[frame],
                      "distance": round(float(result.fake_distance[seed]), 6),
                      "near_copy": result.threshold is not None and bool(result.fake_distance[seed] < result.threshold)})
    return pairs


def record_details(result: MemorisationResult, index: FrameIndex, names: list[str]) -> dict[str, Any]:
    """What the metrics line keeps: enough to draw the report's pairs without measuring again."""
    return {
        "near_copies": result.count,
        "threshold": None if result.threshold is None else round(result.threshold, 6),
        "percentile": result.percentile,
        "window_s": result.window_s,
        "reference_frames": int(result.reference.size),
        "real_median_distance": None if result.reference.size == 0 else round(float(np.median(result.reference)), 6),
        "fake_median_distance": round(float(np.median(result.fake_distance)), 6),
        "reference_note": result.note,
        "closest": closest_pairs(result, index, names),
    }
