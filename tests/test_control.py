"""The control fold: glides and the walk clock against float64 NumPy references, scenes, GO, pause and overrides."""

from fractions import Fraction

import numpy as np
import pytest

from installation.control import (ControlEvent, ControlLimits, Glide, SceneSpec, apply, direction_at, fade_at, fold,
                                  initial_state, integral, person_for, scene_at, scene_elapsed, truncation_at,
                                  value_at, walk_time)

LIMITS = ControlLimits((SceneSpec("intro", Fraction(10)), SceneSpec("wait", None, truncation=0.6),
                        SceneSpec("grid", Fraction(5, 2))), windows=4, people=("ann", "bob"), directions=3)


def E(t, name, *args):  # noqa: N802 - reads like the message it builds
    return ControlEvent(t, "/likeness/" + name, tuple(args))


def reference_value(g: Glide, t: np.ndarray) -> np.ndarray:
    u = np.clip((t - g.t0) / g.seconds, 0.0, 1.0)
    return g.start + (g.target - g.start) * (3 * u ** 2 - 2 * u ** 3)


def trapezoid(f, a: float, b: float, n: int = 200_001) -> float:
    x = np.linspace(a, b, n, dtype=np.float64)
    y = f(x)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def test_glide_values_match_smoothstep_reference():
    g = Glide(0.25, 3.0, t0=2.0, seconds=4.0)
    t = np.linspace(0.0, 8.0, 97)
    np.testing.assert_allclose([value_at(g, x) for x in t], reference_value(g, t), rtol=0, atol=1e-12)
    assert value_at(g, 2.0) == 0.25 and value_at(g, 6.0) == 3.0 and value_at(g, 4.0) == pytest.approx(1.625)
    step = Glide(1.0, 5.0, t0=3.0, seconds=0.0)
    assert value_at(step, 2.999) == 1.0 and value_at(step, 3.0) == 5.0


@pytest.mark.parametrize("a,b", [(0.0, 9.0), (2.5, 4.5), (3.0, 11.0), (-1.0, 1.5), (6.5, 7.0)])
def test_glide_integral_matches_numerical_integration(a, b):
    g = Glide(0.5, 2.0, t0=2.0, seconds=4.0)
    assert integral(g, a, b) == pytest.approx(trapezoid(lambda x: reference_value(g, x), a, b), abs=1e-8)


def test_walk_clock_integrates_speed_across_changes_pause_and_freeze():
    events = [E(1.0, "speed", 2.0, 4.0), E(3.0, "speed", 0.5, 1.0), E(6.0, "pause", 1), E(8.0, "pause", 0),
              E(9.0, "freeze", 1), E(9.5, "freeze", 0)]
    state = initial_state()
    for event in events:
        state = apply(state, event, LIMITS)
    # reference: speed as a piecewise function of time, zero while paused (6..8) or frozen (9..9.5)
    g1 = Glide(1.0, 2.0, 1.0, 4.0)
    v3 = float(reference_value(g1, np.array([3.0]))[0])
    g2 = Glide(v3, 0.5, 3.0, 1.0)

    def speed(x):
        s = np.where(x < 1.0, 1.0, np.where(x < 3.0, reference_value(g1, x), reference_value(g2, x)))
        return np.where(((x >= 6.0) & (x < 8.0)) | ((x >= 9.0) & (x < 9.5)), 0.0, s)

    for t in (2.0, 5.0, 7.0, 8.5, 9.2, 12.0):
        assert walk_time(state if t >= 9.5 else fold([e for e in events if e.t <= t], LIMITS), t) == \
            pytest.approx(trapezoid(speed, 0.0, t), abs=1e-4)


def test_timed_scenes_advance_and_hold_waits_for_go():
    state = initial_state()
    assert scene_at(state, 9.99, LIMITS).index == 0
    assert scene_at(state, 500.0, LIMITS).index == 1          # the hold never ends by itself
    state = apply(state, E(20.0, "go"), LIMITS)
    assert state.scene.index == 2 and state.scene.start == 20.0 and state.scene.came_from == 1
    assert scene_at(state, 22.4, LIMITS).index == 2
    assert scene_at(state, 30.0, LIMITS).index == 2 and apply(state, E(30.0, "go"), LIMITS).ended  # no loop


def test_go_pressed_early_lets_the_next_hold_pass():
    state = apply(initial_state(), E(8.0, "go"), LIMITS)
    assert state.pending_go and scene_at(state, 9.0, LIMITS).index == 0
    anchor = scene_at(state, 11.0, LIMITS)
    assert anchor.index == 2 and anchor.start == 10.0


def test_looping_show_wraps_and_skips_whole_cycles():
    limits = ControlLimits((SceneSpec("a", Fraction(3)), SceneSpec("b", Fraction(2))), loop=True)
    state = initial_state()
    for t, index in ((2.9, 0), (3.0, 1), (5.0, 0), (1e6 + 0.5, 0), (1e6 + 3.5, 1)):
        assert scene_at(state, t, limits).index == index
    assert scene_elapsed(state, 1e6 + 3.5, limits) == pytest.approx(0.5)


def test_pause_stops_scene_timing_and_navigation_by_name():
    state = fold([E(4.0, "pause"), E(10.0, "pause")], LIMITS)      # toggled on, then off: 6 s lost
    assert not state.paused and scene_at(state, 15.9, LIMITS).index == 0 and scene_at(state, 16.0, LIMITS).index == 1
    state = fold([E(1.0, "scene/goto", "grid"), E(2.0, "scene/prev"), E(3.0, "scene/goto", 0), E(4.0, "scene/next")],
                 LIMITS)
    assert state.scene.index == 1 and state.scene.came_from == 0


def test_overrides_fade_directions_people_reseed():
    events = [E(1.0, "fade", 2.0), E(5.0, "fade/in", 4.0), E(1.0, "direction/2", 3.0, 2.0), E(2.0, "window/person", 3,
              "bob"), E(2.0, "reseed"), E(2.0, "reseed"), E(3.0, "grid/rows", 2), E(3.0, "truncation", 0.5, 1.0)]
    state = fold(sorted(events, key=lambda e: e.t), LIMITS)
    assert fade_at(state, 5.0) == 0.0 and fade_at(state, 7.0) == pytest.approx(0.5) and fade_at(state, 9.0) == 1.0
    assert direction_at(state, 2, 2.0) == pytest.approx(1.5) and direction_at(state, 0, 2.0) == 0.0
    assert person_for(state, 3) == "bob" and person_for(state, 0) is None
    assert state.reseed == 2 and state.grid_rows == 2 and state.grid_cols is None
    assert truncation_at(state, 3.5, LIMITS) == pytest.approx(0.75)
    assert truncation_at(initial_state(), 12.0, LIMITS) == 0.6              # the scene's own when not overridden
    assert fade_at(apply(state, E(9.0, "blackout", 1), LIMITS), 9.0) == 0.0


def test_limits_refuse_a_scene_of_no_length():
    with pytest.raises(ValueError, match="above zero"):
        ControlLimits((SceneSpec("a", Fraction(0)),), loop=True)
