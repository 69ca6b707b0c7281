"""A film of a model learning: a training run's fakes grids, in the order training wrote them, labelled with kimg.

The grids show the same seeds at every snapshot (training/grids.py), so played one after another they show each
face forming. The order comes from the run's log.jsonl `grid` records (file names stop sorting once a fractional
label appears), after `fakes_init.png`, the grid before any training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import PIL.ImageDraw
import PIL.ImageFont

from installation.film_writer import FilmMetadata, FilmWriter, check_film_output, sidecar_path, write_sidecar
from training.atomic import check_output_free
from training.errors import DataError, UsageError
from training.run_folder import LogFile, read_config

INIT_GRID = "fakes_init.png"
DEFAULT_BOX = (1920, 1080)  # without --size: grids larger than this are scaled down into it, never up


@dataclass(frozen=True)
class Grid:
    path: Path
    nimg: int  # images shown when it was drawn

    @property
    def label(self) -> str:
        kimg = f"{self.nimg // 1000}" if self.nimg % 1000 == 0 else f"{self.nimg / 1000:.3f}"
        return f"{kimg} kimg"


@dataclass(frozen=True)
class TrainingFilmOptions:
    run: Path
    out: Path
    rate: Fraction = Fraction(6)
    codec: str = "h264"
    crf: int | None = None
    size: tuple[int, int] | None = None  # fit into WxH (enlarging if needed); None: DEFAULT_BOX, never enlarged
    hold_last: float = 2.0  # seconds the last grid stays on screen after its own frame
    force: bool = False
    progress: bool = True


def list_grids(run_dir: Path) -> list[Grid]:
    """The run's fakes grids, oldest first: fakes_init.png, then each `grid` record of log.jsonl that exists."""
    grids = [Grid(run_dir / INIT_GRID, 0)] if (run_dir / INIT_GRID).is_file() else []
    seen = {INIT_GRID}
    for record in LogFile(run_dir).records():
        name = record.get("grid")
        if not isinstance(name, str) or name in seen or Path(name).name != name:
            continue
        seen.add(name)
        if (run_dir / name).is_file():
            grids.append(Grid(run_dir / name, int(record.get("nimg", 0))))
    if not grids:
        raise DataError(f"{run_dir} has no fakes grids yet ({INIT_GRID} is written when training starts); train "
                        "longer, or give another run folder")
    return grids


def frame_layout(grid_size: tuple[int, int], box: tuple[int, int] | None) -> tuple[tuple[int, int], int]:
    """(grid width, grid height) on screen and the label bar's height: even sizes, grid plus bar inside the box."""
    gw, gh = grid_size
    bw, bh = box or DEFAULT_BOX
    largest = 1.0 if box is None else float("inf")
    rough = min(bw / gw, bh / gh, largest)
    bar = max(20, round(gw * rough / 40)) // 2 * 2  # the label grows with the picture
    if bh - bar < 2:
        raise UsageError(f"--size {bw}x{bh} leaves no room for the grid over a {bar} px label bar; use a taller size")
    scale = min(bw / gw, (bh - bar) / gh, largest)
    width = max(2, int(gw * scale) // 2 * 2)
    height = max(2, int(gh * scale) // 2 * 2)
    return (width, height), bar


def labelled_frame(image: PIL.Image.Image, label: str, grid_size: tuple[int, int], bar: int,
                   font: PIL.ImageFont.ImageFont, name: str = "") -> np.ndarray:
    """The grid scaled to `grid_size` over a black bar with the label in white (and `name`, grey, at the right):
    HxWx3 uint8."""
    width, height = grid_size
    frame = PIL.Image.new("RGB", (width, height + bar))
    grid = image.convert("RGB")
    if grid.size != grid_size:
        grid = grid.resize(grid_size, PIL.Image.Resampling.LANCZOS)
    frame.paste(grid, (0, 0))
    draw = PIL.ImageDraw.Draw(frame)
    draw.text((bar // 2, height + bar // 2), label, fill=(255, 255, 255), font=font, anchor="lm")
    if name:
        draw.text((width - bar // 2, height + bar // 2), name, fill=(160, 160, 160), font=font, anchor="rm")
    return np.asarray(frame)


def _read_grid(path: Path) -> PIL.Image.Image:
    try:
        with PIL.Image.open(path) as image:
            image.load()
            return image
    except (OSError, PIL.Image.DecompressionBombError) as err:
        raise DataError(f"{path} is not a readable PNG ({err}); delete it or restore it, then try again") from err


def _person(config: dict[str, Any]) -> str:
    provenance = (config.get("dataset") or {}).get("provenance") or {}
    return str(config.get("person") or provenance.get("person") or "")


def _dataset_summary(config: dict[str, Any]) -> dict[str, Any]:
    """The dataset block of config.json without its per-frame index (thousands of entries nobody reads here)."""
    dataset = dict(config.get("dataset") or {})
    if isinstance(dataset.get("provenance"), dict):
        dataset["provenance"] = {k: v for k, v in dataset["provenance"].items() if k != "frames"}
    return dataset


def make_training_film(options: TrainingFilmOptions) -> Path:
    """Write the film (and its sidecar, FILM.json) and return the film's path."""
    run_dir = options.run
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir} is not a folder; give a training run folder (runs/<person>/<NNNNN>-...)")
    config = read_config(run_dir)
    grids = list_grids(run_dir)
    first = _read_grid(grids[0].path)
    grid_size, bar = frame_layout(first.size, options.size)
    check_film_output(options.out, codec=options.codec, width=grid_size[0], height=grid_size[1] + bar,
                      force=options.force)
    check_output_free(sidecar_path(options.out), options.force)
    hold = round(options.hold_last * options.rate)
    font = PIL.ImageFont.load_default(size=bar * 0.6)
    person = _person(config)
    span = f"{grids[0].label} to {grids[-1].label}"
    metadata = FilmMetadata(title=f"{person or run_dir.name} learning, {span}", people=[person] if person else [],
                            comment=f"likeness training-film of {run_dir.name}: {len(grids)} fakes grids, {span}; "
                                    f"dataset sha256 {(config.get('dataset') or {}).get('sha256', 'unknown')}")
    total = len(grids) + hold
    with FilmWriter(options.out, width=grid_size[0], height=grid_size[1] + bar, rate=options.rate,
                    codec=options.codec, crf=options.crf, metadata=metadata, force=options.force,
                    total_frames=total, progress=options.progress) as film:
        for i, grid in enumerate(grids):
            image = first if i == 0 else _read_grid(grid.path)
            frame = labelled_frame(image, grid.label, grid_size, bar, font, person)
            film.write(frame)
        for _ in range(hold):
            film.write(frame)
    write_sidecar(options.out, {
        "kind": "training-film",
        "title": metadata.title,
        "people": list(metadata.people),
        "run": str(run_dir.resolve()),
        "dataset": _dataset_summary(config),
        "grids": [{"file": g.path.name, "nimg": g.nimg, "label": g.label} for g in grids],
        "hold_last_frames": hold,
        "render": film.settings(),
        "frames": film.frames_written,
    }, force=options.force)
    return options.out


def describe(path: Path) -> str:
    """One line for the terminal: what was written."""
    data = json.loads(sidecar_path(path).read_text())
    render = data["render"]
    return (f"wrote {path} ({data['frames']} frames, {render['width']}x{render['height']} at {render['rate']} "
            f"frames/s, {render['codec']}) and {sidecar_path(path).name}")

