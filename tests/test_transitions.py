"""Transitions on screen: a crossfade is (1 - u) x the scene before + u x the new one, a fade goes through black
(the scene before fading out over the first half, the new one in over the second), checked in pixels read back
from the GPU against NumPy blends of the two scenes drawn alone."""

import numpy as np
import pytest

from installation import control
from installation.model_pool import ModelPool
from installation.outputs import OffscreenOutput
from installation.renderer import Renderer
from installation.show_check import check_show
from installation.show_frame import ShowFrames, draw_picture, render
from tests.render_models import make_registry

SHOW = """\
title: Transitions
size: 64x36
rate: 10
background: [0.2, 0.3, 0.4]
registry: models/registry.yaml
scenes:
  - name: grid
    duration: 2
    layout: {type: grid, rows: 1, cols: 2, gap: 2, margin: 2, background: [0.5, 0.1, 0.1]}
    people: all
    walk: {seeds: [1, 2], seconds: 4}
  - name: single
    duration: 2
    layout: {type: single}
    people: [bo]
    transition: {type: TYPE, seconds: 1}
"""


def stage(tmp_path, kind):
    make_registry(tmp_path / "models", {"ana": 1, "bo": 2})
    (tmp_path / "show.yaml").write_text(SHOW.replace("TYPE", kind))
    show = check_show(tmp_path / "show.yaml")
    out = OffscreenOutput(64, 36)
    return ShowFrames(show), Renderer(ModelPool.from_registry(show.registry), out), out


def drawn(renderer, out, request) -> np.ndarray:
    renderer.draw(request)
    return out.read_rgb().astype(np.float64)


@pytest.mark.parametrize("t", [2.25, 2.7])
def test_a_crossfade_is_the_weighted_sum_of_both_scenes(tmp_path, t):
    frames, renderer, out = stage(tmp_path, "crossfade")
    state = control.initial_state(0.0)
    picture = frames.picture(state, t)
    u = t - 2.0  # seconds into a 1 s transition
    assert picture.under is not None and picture.weight == pytest.approx(u)
    before, after = drawn(renderer, out, picture.under), drawn(renderer, out, picture.over)
    assert np.abs(before - after).max() > 50  # two different pictures, so the blend is a real test
    render(frames, renderer, state, t)
    got = out.read_rgb().astype(np.float64)
    assert np.abs(got - ((1 - u) * before + u * after)).max() <= 1.5  # 8-bit rounding of the blend
    out.release()


def test_a_fade_goes_through_black(tmp_path):
    frames, renderer, out = stage(tmp_path, "fade")
    state = control.initial_state(0.0)
    for t, scene, level in ((2.25, 0, 0.5), (2.5, 0, 0.0), (2.75, 1, 0.5), (2.9, 1, 0.8)):
        settled = control.settle(state, t, frames.limits)
        whole = drawn(renderer, out, frames.request(settled, scene, t, 1.0))  # that scene at t, unfaded
        assert whole.std() > 5
        picture = frames.picture(state, t)
        assert picture.under is None
        draw_picture(renderer, picture)
        got = out.read_rgb().astype(np.float64)
        assert np.abs(got - level * whole).max() <= 1.5, t  # background and all: the fade multiplies everything
    out.release()


def test_a_half_transparent_quad_leaves_the_frame_opaque():
    """Alpha adds up as coverage: a frame drawn into the crossfade's scratch buffer must stay opaque, or the frame
    below a crossfade would count for less than its weight wherever something translucent was drawn."""
    from installation.compositor import Compositor, Quad

    output = OffscreenOutput(8, 8)
    compositor = Compositor(output.ctx)
    target = output.ctx.framebuffer(color_attachments=[output.ctx.texture((8, 8), 4)])
    target.use()
    target.clear(0.0, 0.0, 1.0, 1.0)
    compositor.draw([Quad((0, 0, 8, 8), colour=(1.0, 0.0, 0.0, 0.25))], (8, 8), (0.0, 0.0, 1.0), 1.0)
    rgba = np.frombuffer(target.read(components=4), dtype=np.uint8).reshape(8, 8, 4)
    expected = np.round(np.array([0.25, 0.0, 0.75, 1.0]) * 255)
    assert np.abs(rgba.reshape(-1, 4).astype(float) - expected).max() <= 1, rgba[0, 0]
    compositor.release()
    output.release()
