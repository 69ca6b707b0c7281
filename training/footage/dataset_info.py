"""What a dataset is and whether it will train: provenance, counts, and a full decode of every frame.

A dataset travels between machines and outlives the session that made it, so before a long training run it pays
to know that every PNG decodes, that all frames share one square power-of-two size, and what the zip says about
the person, the footage and the consent it was made under.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from training.dataset import ImageDataset, is_power_of_two
from training.footage.dataset_writer import frame_name
from training.errors import DataError
from training.footage.timecode import describe_rate, format_clock


@dataclass
class DatasetReport:
    path: Path
    kind: str  # zip or folder
    bytes: int
    images: int
    width: int
    height: int
    channels: int
    labelled: bool
    provenance: dict | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _size_on_disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _check_image(ds: ImageDataset, index: int) -> tuple[int, tuple[int, int, int] | str]:
    try:
        image = ds.read_image(index)
    except DataError as err:
        return index, str(err)
    return index, (image.shape[1], image.shape[0], image.shape[2])


def _frame_checks(ds: ImageDataset, progress: bool, jobs: int) -> list[str]:
    """Decode every frame (threads: PNG decoding releases the GIL) and report the first few problems."""
    from tqdm import tqdm

    problems: list[str] = []
    first = (ds.shape.width, ds.shape.height, ds.shape.channels)
    with ThreadPoolExecutor(jobs) as pool, tqdm(total=len(ds), unit="frame", desc="verify",
                                                 disable=not progress or None, dynamic_ncols=True) as bar:
        for index, outcome in pool.map(lambda i: _check_image(ds, i), range(len(ds)), chunksize=8):
            bar.update(1)
            if len(problems) >= 5:
                continue
            if isinstance(outcome, str):
                problems.append(outcome)
            elif outcome != first:
                problems.append(f"{ds.names[index]} is {outcome[0]}x{outcome[1]}x{outcome[2]} but "
                                f"{ds.names[0]} is {first[0]}x{first[1]}x{first[2]}; all frames must have one size")
    return problems


def _shape_checks(ds: ImageDataset) -> list[str]:
    s = ds.shape
    problems = []
    if s.width != s.height or not is_power_of_two(s.width):
        problems.append(f"frames are {s.width}x{s.height}; training needs square frames whose side is a power of "
                        "two; re-create the dataset with `likeness prepare --size N`")
    if s.channels not in (1, 3):
        problems.append(f"frames have {s.channels} channels; use grey or RGB")
    return problems


def _provenance_checks(ds: ImageDataset) -> list[str]:
    block = ds.provenance
    if not block:
        return []
    problems = []
    count = block.get("frame_count")
    if count is not None and count != len(ds):
        problems.append(f"dataset.json says {count} frames but the zip holds {len(ds)}; the zip was altered or "
                        "cut short: re-create it")
    size = block.get("size")
    if size is not None and size != ds.shape.width:
        problems.append(f"dataset.json says {size} px but the frames are {ds.shape.width} px wide")
    frames = block.get("frames")
    if isinstance(frames, list) and len(frames) != len(ds):
        problems.append(f"dataset.json indexes {len(frames)} frames but the zip holds {len(ds)}")
    if ds.kind == "zip":
        for i, name in enumerate(ds.names):
            if name != frame_name(i):
                problems.append(f"frame {i} is named {name}, not {frame_name(i)} as in NVIDIA's layout")
                break
    return problems


def inspect_dataset(path: str | os.PathLike, *, progress: bool = True, jobs: int = 0) -> DatasetReport:
    """Open, describe and fully verify a dataset; problems are collected, not raised."""
    ds = ImageDataset(path)
    try:
        report = DatasetReport(
            path=ds.path, kind=ds.kind, bytes=_size_on_disk(ds.path), images=len(ds), width=ds.shape.width,
            height=ds.shape.height, channels=ds.shape.channels, labelled=ds.labels is not None,
            provenance=ds.provenance,
        )
        report.problems += _shape_checks(ds)
        report.problems += _provenance_checks(ds)
        report.problems += _frame_checks(ds, progress, jobs or min(8, os.cpu_count() or 1))
    finally:
        ds.close()
    return report


def _rate(text) -> str:
    try:
        return describe_rate(Fraction(text))
    except (TypeError, ValueError, ZeroDivisionError):
        return str(text)


def _source_line(i: int, src: dict) -> str:
    if src.get("kind") == "images":
        return (f"  [{i}] {src.get('name')}  {src.get('image_count')} images  {src.get('width')}x{src.get('height')}"
                f"  sha256 {str(src.get('sha256'))[:16]}")
    rot = f" rotated {src['rotation']}" if src.get("rotation") else ""
    return (f"  [{i}] {src.get('name')}  {format_clock(src.get('duration') or 0)}  {_rate(src.get('frame_rate'))} fps"
            f"  {src.get('width')}x{src.get('height')}{rot}  {src.get('codec')}  sha256 {str(src.get('sha256'))[:16]}"
            f"  (from {format_clock(src.get('offset') or 0)} on the timeline)")


def format_report(report: DatasetReport) -> list[str]:
    """The human view: provenance first (who, under what consent, from what), then the checks."""
    mb = report.bytes / 1e6
    lines = [f"dataset   {report.path}  ({report.kind}, {mb:.1f} MB)"]
    block = report.provenance
    if block:
        lines.append(f"person    {block.get('person')}")
        lines.append(f"consent   {block.get('consent')}")
        fps = block.get("fps")
        how = f"{block.get('fit')}" + (f" centred at {block['crop_center'][0]:g},{block['crop_center'][1]:g}"
                                       if block.get("fit") == "crop" and block.get("crop_center") else "")
        lines.append(f"sampling  {_rate(fps) + ' fps, ' if fps else 'one image per frame, '}{how}, "
                     f"{block.get('size')} px, PNG level {block.get('png_level')}")
        if block.get("start") is not None or block.get("end") is not None:
            start = format_clock(block.get("start") or 0)
            end = format_clock(block["end"]) if block.get("end") is not None else "end"
            lines.append(f"range     {start} to {end}")
        sources = block.get("sources") or []
        lines.append(f"sources   {len(sources)}")
        lines += [_source_line(i, src) for i, src in enumerate(sources)]
        lines.append(f"notes     {block.get('repeated_frames', 0)} repeated, "
                     f"{len(block.get('skipped_frames') or [])} skipped as undecodable, "
                     f"{len(block.get('dropped_frames') or [])} dropped as blurry")
        tool = block.get("tool") or {}
        lines.append(f"made by   {tool.get('name')} {tool.get('version')} on {block.get('created')}")
    else:
        lines.append("person    (no likeness provenance: this dataset was made by another tool)")
    labels = "with labels" if report.labelled else "no labels"
    colour = {1: "grey", 3: "RGB"}.get(report.channels, f"{report.channels} channels")
    lines.append(f"frames    {report.images} at {report.width}x{report.height}, {colour}, {labels}")
    if report.ok:
        lines.append(f"verified  all {report.images} frames decode, one size, square, power of two: OK")
    else:
        lines.append(f"verified  FAILED: {report.problems[0]}")
        lines += [f"          also: {p}" for p in report.problems[1:]]
    return lines


def report_json(report: DatasetReport) -> dict:
    return {
        "path": str(report.path),
        "kind": report.kind,
        "bytes": report.bytes,
        "images": report.images,
        "width": report.width,
        "height": report.height,
        "channels": report.channels,
        "labels": report.labelled,
        "ok": report.ok,
        "problems": report.problems,
        "provenance": report.provenance,
    }
