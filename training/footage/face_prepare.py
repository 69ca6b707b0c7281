"""The hooks that join `--fit face` to `likeness prepare`: checks, the framer, provenance, report and preview.

Kept apart from prepare.py so that the face path is one import away and the plain crop/letterbox path does not
load the detector.
"""

from __future__ import annotations

import dataclasses
import json
import math
from fractions import Fraction
from pathlib import Path

import PIL.Image
import PIL.ImageDraw

from training.atomic import atomic_write_bytes, check_output_free
from training.errors import UsageError
from training.footage.dataset_writer import DatasetZipWriter, encode_png
from training.footage.face_crop import display_image
from training.footage.face_framing import BOXES_NAME, FaceFramer, FaceOptions
from training.footage.image_folder import load_rgb
from training.footage.timecode import format_clock
from training.footage.video_source import frame_to_image, normalise_rotation

PREVIEW_CELL = 320  # longest side of each picture on the contact sheet
MAX_PREVIEW = 100


def validate_face(options) -> None:
    """Refuse face options that make no sense, before any file is opened (exit 2)."""
    if options.fit != "face":
        raise UsageError("--face-scale, --align, --face-smooth, --max-face-fraction, --drop-faceless and --preview "
                         "apply to --fit face; add --fit face or leave them out")
    face = options.face or FaceOptions()
    if not face.scale > 0:
        raise UsageError(f"--face-scale must be above zero, not {face.scale:g}; e.g. 2.5 keeps hair and shoulders")
    if face.align not in (None, "eyes"):
        raise UsageError(f"--align {face.align!r} is unknown; use --align eyes")
    if face.smooth < 0:
        raise UsageError(f"--face-smooth must be zero (off) or more seconds, not {face.smooth:g}")
    if face.max_face_fraction is not None and not 0 < face.max_face_fraction <= 1:
        raise UsageError(f"--max-face-fraction must be above 0 and at most 1, not {face.max_face_fraction:g}; "
                         "e.g. 0.4 flags frames where the face covers more than 40% of the picture")


def face_framer(preparer) -> FaceFramer:
    """A FaceFramer that reads the preparer's jobs (decoded frames or image paths) as displayed pictures."""
    sources = preparer.sources

    def picture(job) -> PIL.Image.Image:
        if isinstance(job.payload, Path):
            return load_rgb(job.payload)
        info = sources[job.source].video
        return display_image(frame_to_image(job.payload), normalise_rotation(job.payload.rotation),
                             info.sample_aspect)

    def timeline(job) -> float | None:
        src = sources[job.source]
        return float(src.offset + job.position) if src.video else None

    return FaceFramer(preparer.options.face or FaceOptions(), preparer.options.size, picture, timeline)


def framing_block(preparer) -> dict:
    """The `framing` entry of the provenance: the settings, the detector, and what each rule touched."""
    framer = preparer.face_framer
    block = (preparer.options.face or FaceOptions()).provenance()
    block.update(rules=framer.counts(), boxes=BOXES_NAME, box_columns=["center_x", "center_y", "side", "angle"],
                 flagged_frames=[[f.source, _position(f.position), f.rule] for f in framer.flagged])
    return block


def store_face_boxes(preparer, writer: DatasetZipWriter, provenance: dict) -> None:
    """Add the per-frame crops as a side file and the framing block to the provenance."""
    provenance["framing"] = framing_block(preparer)
    side = {"coordinates": "pixels of each source picture as displayed (rotation applied, square pixels); "
                           "angle in degrees, clockwise on screen",
            "columns": ["center_x", "center_y", "side", "angle"], "frames": preparer.face_boxes}
    writer.add_side_file(BOXES_NAME, json.dumps(side).encode())


def _position(position):
    return round(float(position), 3) if isinstance(position, Fraction) else position


def face_report_lines(result, where) -> list[str]:
    """The summary lines about framing: how many frames each rule touched, and when they are."""
    block = result.provenance.get("framing") or {}
    counts = block.get("rules", {})
    flagged = sum(counts.values())
    if not flagged:
        return ["  face framing: a single face followed in every frame"]
    fate = "left out (--drop-faceless)" if block.get("drop_faceless") else "kept with the last good crop"
    parts = ", ".join(f"{n} {rule}" for rule, n in counts.items() if n)
    lines = [f"  face framing: {flagged} frames {fate}: {parts}"]
    for rule in counts:
        notes = [_Note(s, p) for s, p, r in block["flagged_frames"] if r == rule]
        if notes:
            shown = ", ".join(where(n, result) for n in notes[:20])
            more = f", ... ({len(notes) - 20} more)" if len(notes) > 20 else ""
            lines.append(f"    {rule}: {shown}{more}")
    return lines


@dataclasses.dataclass
class _Note:
    source: int
    position: object

    def __post_init__(self) -> None:
        if isinstance(self.position, float):
            self.position = Fraction(self.position).limit_denominator(1000)


def preview_path(output: str) -> Path:
    out = Path(output)
    return out.with_name(out.name[:-4] + ".preview.png" if out.name.lower().endswith(".zip") else out.name + ".png")


def write_preview(options, count: int) -> tuple[Path, int]:
    """A contact sheet of `count` evenly spaced frames, the face crop drawn on each source picture; no dataset.

    Returns the sheet's path and how many frames it shows.
    """
    from training.footage.prepare import Preparer

    if not 1 <= count <= MAX_PREVIEW:
        raise UsageError(f"--preview takes 1 to {MAX_PREVIEW} frames, not {count}")
    sheet = preview_path(options.output)
    check_output_free(sheet, options.force)
    probe = Preparer(options)
    probe.open_inputs()
    sources = probe.sources
    if sources[0].video:
        start = options.start or Fraction(0)
        end = min(options.end, probe.timeline_end) if options.end is not None else probe.timeline_end
        step = (end - start) / count
        options = dataclasses.replace(options, fps=1 / step, start=start + step / 2, end=end)
    else:
        images = sources[0].images
        sources[0].images = [images[(2 * k + 1) * len(images) // (2 * count)] for k in range(min(count, len(images)))]
    preparer = Preparer(options)
    preparer.sources = sources
    cells = []
    for job in preparer.jobs():
        framer = preparer.face_framer
        flagged = framer.flagged[-1].rule if framer.flagged and framer.flagged[-1].position == job.position else None
        cells.append(_cell(job.payload, job.plan, _label(job, sources, flagged)))
    atomic_write_bytes(sheet, encode_png(_tile(cells), 6), force=options.force)
    return sheet, len(cells)


def _label(job, sources, flagged: str | None) -> str:
    src = sources[job.source]
    where = f"{src.path.name} {format_clock(job.position)}" if src.video else f"{job.position}"
    return where + (f"  {flagged}" if flagged else "")


def _cell(picture: PIL.Image.Image, crop, label: str) -> PIL.Image.Image:
    scale = PREVIEW_CELL / max(picture.size)
    small = picture.convert("RGB").resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                                          PIL.Image.Resampling.BILINEAR, reducing_gap=2.0)
    cell = PIL.Image.new("RGB", (PREVIEW_CELL, PREVIEW_CELL + 16), (24, 24, 24))
    cell.paste(small, ((PREVIEW_CELL - small.width) // 2, 0))
    dx = (PREVIEW_CELL - small.width) // 2
    draw = PIL.ImageDraw.Draw(cell)
    corners = [(x * scale + dx, y * scale) for x, y in crop.corners()]
    colour = (255, 200, 0) if "  " in label else (255, 40, 40)
    draw.line(corners + corners[:1], fill=colour, width=2)
    draw.text((4, PREVIEW_CELL + 2), label, fill=(230, 230, 230))
    return cell


def _tile(cells: list[PIL.Image.Image]) -> PIL.Image.Image:
    cols = math.ceil(math.sqrt(len(cells)))
    rows = math.ceil(len(cells) / cols)
    w, h = cells[0].size
    sheet = PIL.Image.new("RGB", (cols * w, rows * h), (0, 0, 0))
    for i, cell in enumerate(cells):
        sheet.paste(cell, ((i % cols) * w, (i // cols) * h))
    return sheet
