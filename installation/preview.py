"""`likeness preview registry.yaml`: every approved sitter at once, each walking its latent space.

The first thing an artist wants after the gate. Live in a window (show time = wall clock; q or Esc quits, space
pauses, s toggles the stats overlay), or offscreen: a contact sheet of N moments spread over one loop of the walk,
or a soak run that draws N frames and reports memory at the start and the end.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from installation.frame_stats import FrameStats, memory
from installation.layouts import FilmstripLayout, GridLayout, Layout, SingleLayout, arrange
from installation.model_pool import ModelPool
from installation.renderer import FrameRequest, Renderer, windows_for
from installation.text_overlay import text_image
from installation.walks import WalkSpec



@dataclass
class PreviewOptions:
    registry: Path
    layout: str = "grid"
    rows: int | None = None
    cols: int | None = None
    strip_frames: int = 5
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    seconds: float = 3.0
    interpolation: str = "slerp"
    truncation: float = 1.0
    size: tuple[int, int] = (1280, 720)
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    offscreen: bool = False
    frames: int = 8
    out: Path | None = None
    force: bool = False
    stats: bool = False
    soak: int = 0
    rate: float = 60.0
    allow_unapproved: bool = False
    device: str = "cpu"
    monitor: int | None = None
    fullscreen: bool = False
    vsync: bool = True
    people: list[str] | None = field(default=None)

    @property
    def walk(self) -> WalkSpec:
        space = "z" if self.interpolation == "slerp" else "w"
        return WalkSpec(seeds=self.seeds, space=space, interpolation=self.interpolation, seconds=self.seconds,
                        truncation=self.truncation, phase=0.0)

    @property
    def period(self) -> float:
        return self.seconds * len(self.seeds)


def preview_layout(options: PreviewOptions, people: int) -> Layout:
    """A grid near the output's aspect with a window per sitter (unless rows/cols say otherwise)."""
    if options.layout == "single":
        return SingleLayout()
    if options.layout == "filmstrip":
        return FilmstripLayout(frames=options.strip_frames, speed=1.0 / options.seconds, step=options.seconds / 2)
    width, height = options.size
    cols = options.cols or max(1, round(math.sqrt(people * width / height)))
    rows = options.rows or math.ceil(people / cols)
    if options.cols is None and options.rows is None:
        cols = math.ceil(people / rows)
    scale = height / 720
    return GridLayout(rows, cols, gap=8 * scale, margin=16 * scale)


class Preview:
    """The preview scene: windows cycle through the pool's people, spread evenly over the walk's loop."""

    def __init__(self, options: PreviewOptions, pool: ModelPool, output):
        self.options = options
        self.pool = pool
        self.output = output
        self.renderer = Renderer(pool, output)
        self.people = pool.people
        self.layout = preview_layout(options, len(self.people))
        try:
            slots = len(arrange(self.layout, *options.size).slots)
        except ValueError as err:
            from training.errors import UsageError

            raise UsageError(f"{err} (--size {options.size[0]}x{options.size[1]})") from None
        walk = options.walk
        self.walk = WalkSpec(seeds=walk.seeds, space=walk.space, interpolation=walk.interpolation,
                             seconds=walk.seconds, truncation=walk.truncation,
                             phase=options.period / max(slots, 1) / 3)
        self.warnings = [f"UNAPPROVED: {name} (--allow-unapproved)" for name in pool.unapproved]

    def request(self, t: float) -> FrameRequest:
        arrangement = arrange(self.layout, *self.options.size, t=t)
        return FrameRequest(windows_for(arrangement, self.people, self.walk, t), list(arrangement.solids),
                            self.options.background)

    def draw(self, t: float, overlay: list[str] | None = None) -> None:
        self.renderer.draw(self.request(t))
        lines = self.warnings + (overlay or [])
        if lines:
            colour = (255, 80, 60) if self.warnings else (255, 255, 255)
            self.renderer.compositor.draw_overlay(text_image(lines, colour=colour), 8, 8, self.output.size)


def open_pool(options: PreviewOptions) -> ModelPool:
    return ModelPool.from_registry(options.registry, device=options.device,
                                   allow_unapproved=options.allow_unapproved, people=options.people)


def contact_sheet(preview: Preview, frames: int, out: Path) -> Path:
    """N moments evenly spread over one loop of the walk, tiled with their show times under each."""
    from PIL import Image, ImageDraw

    from training.atomic import atomic_output

    width, height = preview.options.size
    cols = min(frames, 4)
    rows = math.ceil(frames / cols)
    label = 22
    sheet = Image.new("RGB", (cols * width, rows * (height + label)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for k in range(frames):
        t = preview.options.period * k / frames
        preview.draw(t)
        tile = Image.fromarray(preview.output.read_rgb())
        x, y = (k % cols) * width, (k // cols) * (height + label)
        sheet.paste(tile, (x, y))
        draw.text((x + 6, y + height + 4), f"t = {t:.2f} s", fill=(230, 230, 230))
    with atomic_output(out, force=preview.options.force) as tmp:
        sheet.save(tmp, format="PNG")
    return out


def soak(preview: Preview, frames: int, say=print) -> dict[str, float]:
    """Draw `frames` frames offscreen at the show rate's times; memory after the first frame and at the end."""
    stats = FrameStats(preview.options.rate)
    start_mem: dict[str, float] = {}
    for k in range(frames):
        t0 = time.perf_counter()
        before = preview.renderer.images_drawn
        preview.draw(k / preview.options.rate)
        preview.output.read_rgb()
        stats.add(time.perf_counter() - t0, preview.renderer.images_drawn - before, k / preview.options.rate)
        if k == 0:
            start_mem = memory()
    end = stats.summary()
    result = {**{f"start_{k}": v for k, v in start_mem.items()}, **{f"end_{k}": v for k, v in end.items()}}
    say(f"soak: {frames} frames; host memory {start_mem.get('host_mb', 0):.0f} MB after the first frame, "
        f"{end['host_mb']:.0f} MB after the last" +
        (f"; GPU {start_mem['gpu_mb']:.0f} -> {end['gpu_mb']:.0f} MB" if "gpu_mb" in end else "") +
        f"; {end['fps']:.1f} fps, p99 {end['p99_ms']:.0f} ms")
    return result


def run_window(preview: Preview, say=print) -> FrameStats:
    """The live loop: frames at the preview's rate as the wall clock reaches them (late ones dropped), counted."""
    import glfw

    from installation.frame_pacer import FramePacer

    output = preview.output
    stats = FrameStats(preview.options.rate)
    show_stats = preview.options.stats
    pacer = FramePacer(Fraction(preview.options.rate))
    paused_at: float | None = None  # the wall time the walks stopped at
    paused_for = 0.0  # wall time spent paused, which the walks do not see
    last_print = time.perf_counter()
    while not output.should_close():
        wall = pacer.time_of(pacer.next_frame())
        t0 = time.perf_counter()
        for key in output.keys:
            if key in (glfw.KEY_Q, glfw.KEY_ESCAPE):
                return stats
            if key == glfw.KEY_SPACE:
                if paused_at is None:
                    paused_at = wall
                else:
                    paused_for += wall - paused_at
                    paused_at = None
            if key == glfw.KEY_S:
                show_stats = not show_stats
        output.keys.clear()
        t = (paused_at if paused_at is not None else wall) - paused_for
        before = preview.renderer.images_drawn
        preview.draw(t, stats.lines() if show_stats else None)
        output.finish()
        stats.add(time.perf_counter() - t0, preview.renderer.images_drawn - before, wall)
        if show_stats and t0 - last_print > 5:
            say("  ".join(stats.lines()))
            last_print = t0
    return stats


def run_preview(options: PreviewOptions, say=print) -> Path | None:
    from installation.outputs import OffscreenOutput, WindowOutput

    from installation.show_log import setup_logging

    setup_logging()
    pool = open_pool(options)
    width, height = options.size
    if options.offscreen:
        output = OffscreenOutput(width, height)
    else:
        output = WindowOutput(width, height, title=f"likeness preview: {options.registry}",
                              monitor=options.monitor, fullscreen=options.fullscreen, vsync=options.vsync,
                              hide_cursor=options.fullscreen)
    try:
        preview = Preview(options, pool, output)
        say(f"showing {', '.join(pool.people)} in a {options.layout} at {width}x{height}")
        if options.soak:
            soak(preview, options.soak, say)
        if options.offscreen and options.out is not None:
            contact_sheet(preview, options.frames, options.out)
            say(f"wrote {options.out}: {options.frames} moments over {options.period:g} s")
            return options.out
        if not options.offscreen:
            stats = run_window(preview, say)
            say("  ".join(stats.lines()))
        return None
    finally:
        output.release()


def sheet_tiles(path: Path, frames: int, size: tuple[int, int]) -> list[np.ndarray]:
    """The frames of a contact sheet written by `contact_sheet`, for checks."""
    from PIL import Image

    width, height = size
    cols = min(frames, 4)
    sheet = np.asarray(Image.open(path).convert("RGB"))
    return [sheet[(k // cols) * (height + 22):(k // cols) * (height + 22) + height,
                  (k % cols) * width:(k % cols + 1) * width] for k in range(frames)]
