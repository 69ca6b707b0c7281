"""`likeness check show.yaml --storyboard sheet.png`: a few moments of every scene, drawn offscreen, so a curator
sees the show before playing it. Each tile is the frame the show draws at that show time (the same
`render(state, t)` as live and export), labelled with the scene's name and the time."""

from __future__ import annotations

import math
from pathlib import Path

from installation.show import Show

TILE_LABEL = 20


def storyboard_times(show: Show, per_scene: int, hold_seconds: float = 8.0) -> list[tuple[str, float]]:
    """(scene name, show time) for `per_scene` moments spread over each scene (a hold scene: its first seconds)."""
    out, start = [], 0.0
    for scene in show.scenes:
        length = float(scene.duration) if scene.duration is not None else hold_seconds
        for k in range(per_scene):
            out.append((scene.name, start + length * (k + 0.5) / per_scene))
        if scene.duration is None:
            break  # after a hold the show waits for GO: later times are the performer's
        start += length
    return out


def write_storyboard(show: Show, out: Path, *, per_scene: int = 3, tile_width: int = 320, force: bool = False,
                     device: str = "cpu") -> Path:
    from PIL import Image, ImageDraw

    from installation import control
    from installation.model_pool import ModelPool
    from installation.outputs import OffscreenOutput
    from installation.renderer import Renderer
    from installation.show_frame import ShowFrames, render
    from training.atomic import atomic_output, check_output_free

    check_output_free(out, force)
    width = tile_width
    height = max(2, round(show.height * tile_width / show.width))
    frames = ShowFrames(show, (width, height))
    pool = ModelPool.from_registry(show.registry, device=device, people=list(show.people))
    moments = storyboard_times(show, per_scene)
    cols = per_scene
    rows = math.ceil(len(moments) / cols)
    sheet = Image.new("RGB", (cols * width, rows * (height + TILE_LABEL)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    output = OffscreenOutput(width, height)
    try:
        renderer = Renderer(pool, output)
        state = control.initial_state(0.0)
        for i, (name, t) in enumerate(moments):
            render(frames, renderer, state, t)
            x, y = (i % cols) * width, (i // cols) * (height + TILE_LABEL)
            sheet.paste(Image.fromarray(output.read_rgb()), (x, y))
            draw.text((x + 6, y + height + 4), f"{name}  {int(t // 60)}:{t % 60:06.3f}", fill=(230, 230, 230))
    finally:
        output.release()
    with atomic_output(out, force=force) as tmp:
        sheet.save(tmp, format="PNG")
    return out
