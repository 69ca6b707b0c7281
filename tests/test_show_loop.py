"""A looping show plays with a period of a whole number of frames and starts over at it: frame N + k is frame k,
live as in a film of one period played on repeat."""

from fractions import Fraction

import numpy as np
import pytest

from installation import control
from installation.show_check import check_show
from installation.show_frame import ShowFrames, limits_for, played_durations, render
from tests.render_models import make_registry

SHOW = """\
title: Loop
size: 64x36
rate: 25
loop: true
registry: models/registry.yaml
scenes:
  - name: a
    duration: 1
    layout: {type: grid, rows: 1, cols: 2, gap: 2, margin: 2}
    people: all
    walk: {seeds: [1, 2, 3], seconds: 0.7, phase: 0.3}
  - name: b
    duration: 1.01
    layout: {type: filmstrip, frames: 3, speed: 1.5, step: 0.2}
    people: [bo]
    transition: {type: crossfade, seconds: 0.2}
"""


@pytest.fixture(scope="module")
def show(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop")
    make_registry(root / "models", {"ana": 1, "bo": 2})
    (root / "show.yaml").write_text(SHOW)
    return check_show(root / "show.yaml")


def summary(picture):
    """What a picture asks for, in numbers: each window's person, position and place, both layers of a fade."""
    def one(request):
        return [(w.person, w.position, w.image, w.alpha) for w in request.windows], request.fade
    return one(picture.over), one(picture.under) if picture.under is not None else None, picture.weight


def test_the_period_is_whole_frames_and_the_last_scene_takes_the_rounding(show):
    assert show.frame_count() == 50  # 2.01 s x 25 = 50.25 -> 50 frames, period 2 s
    assert played_durations(show) == [Fraction(1), Fraction(1)]
    assert [s.duration for s in limits_for(show).scenes] == [Fraction(1), Fraction(1)]


def test_frame_n_plus_k_is_frame_k(show):
    frames, state = ShowFrames(show), control.initial_state(0.0)
    n = show.frame_count()
    for k in (0, 3, 24, 27, 49):  # in scene a, in the crossfade into b, in b, the last frame
        want = summary(frames.picture(state, k / 25))
        for passes in (1, 2, 7):
            got = summary(frames.picture(state, (k + passes * n) / 25))
            assert got[2] == pytest.approx(want[2])
            for layer_got, layer_want in zip(got[:2], want[:2]):
                assert (layer_got is None) == (layer_want is None)
                if layer_got is None:
                    continue
                (windows_got, fade_got), (windows_want, fade_want) = layer_got, layer_want
                assert fade_got == pytest.approx(fade_want)
                assert [p for p, *_ in windows_got] == [p for p, *_ in windows_want]
                numbers = [x for _, pos, rect, alpha in windows_got for x in (pos, *rect, alpha)]
                want_numbers = [x for _, pos, rect, alpha in windows_want for x in (pos, *rect, alpha)]
                assert numbers == pytest.approx(want_numbers, abs=1e-9)  # float sums of periods: equal to rounding
    assert control.scene_at(state, n / 25, frames.limits).index == 0  # wrapped on frame N, not 0.01 s later


def test_the_wrap_draws_frame_zero_again(show):
    from installation.model_pool import ModelPool
    from installation.outputs import OffscreenOutput
    from installation.renderer import Renderer

    out = OffscreenOutput(64, 36)
    renderer, frames, state = Renderer(ModelPool.from_registry(show.registry), out), ShowFrames(show), \
        control.initial_state(0.0)
    drawn = []
    for t in (2 / 25, (2 + 50) / 25, 49 / 25):
        render(frames, renderer, state, t)
        drawn.append(out.read_rgb())
    assert np.array_equal(drawn[0], drawn[1]) and drawn[0].std() > 5
    assert not np.array_equal(drawn[0], drawn[2])
    out.release()
