"""SeFa directions against an independent float64 NumPy eigendecomposition, and their effect on a drawn frame."""

import numpy as np
import torch

from installation.directions import offset, sefa_directions
from tests.render_models import tiny_generator


def test_directions_are_the_top_eigenvectors_of_the_stacked_style_weights():
    G = tiny_generator(4)
    got = sefa_directions(G, count=3, layers=2).numpy()
    names = [n for n, _ in G.synthesis.named_modules() if n.endswith("affine") and ".torgb" not in n][:2]
    A = np.concatenate([dict(G.synthesis.named_modules())[n].weight.double().numpy() for n in names])
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    values, vectors = np.linalg.eigh(A.T @ A)
    want = vectors[:, np.argsort(values)[::-1][:3]].T
    for g, w in zip(got, want):  # an eigenvector's sign is arbitrary
        assert min(np.abs(g - w).max(), np.abs(g + w).max()) < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)


def test_offset_sums_the_moved_directions_and_ignores_unknown_ones():
    d = torch.eye(4)
    assert offset(d, {}) is None and offset(d, {0: 0.0}) is None
    assert torch.equal(offset(d, {1: 2.0, 3: -1.0, 9: 5.0}), torch.tensor([0.0, 2.0, 0.0, -1.0]))


def test_a_direction_moves_the_frame_and_zero_brings_it_back(tmp_path):
    from installation.model_pool import ModelPool
    from installation.outputs import OffscreenOutput
    from installation.renderer import FrameRequest, Renderer, windows_for
    from installation.layouts import SingleLayout, arrange
    from installation.walks import WalkSpec
    from tests.render_models import make_registry

    pool = ModelPool.from_registry(make_registry(tmp_path, {"ana": 1}))
    out = OffscreenOutput(64, 64)
    renderer = Renderer(pool, out)
    windows = windows_for(arrange(SingleLayout(), 64, 64), ["ana"], WalkSpec(seeds=(2,)), 0.0)
    renderer.draw(FrameRequest(windows))
    still = out.read_rgb()
    renderer.draw(FrameRequest(windows, directions={0: 6.0}))
    moved = out.read_rgb()
    renderer.draw(FrameRequest(windows, directions={0: 0.0}))
    assert np.array_equal(out.read_rgb(), still) and not np.array_equal(moved, still)


SHOW = """\
title: Directions
size: 64x48
rate: 10
registry: models/registry.yaml
scenes:
  - name: a
    duration: 1
    layout: {type: grid, rows: 1, cols: 2}
    people: all
    walk: {seeds: [3, 4], seconds: 0.5{directions}}
"""


def test_scene_directions_move_the_frames_as_the_same_osc_values_do(tmp_path):
    """The scene's directions draw what the show without them draws when the same values arrive over OSC (they
    add), in export as in the live renderer."""
    from installation import control
    from installation.directions import DEFAULT_COUNT
    from installation.model_pool import ModelPool
    from installation.outputs import OffscreenOutput
    from installation.renderer import Renderer
    from installation.show_check import DIRECTION_COUNT, check_show
    from installation.show_frame import ShowFrames, render
    from tests.conftest import run_cli
    from tests.render_models import make_registry

    from PIL import Image

    assert DIRECTION_COUNT == DEFAULT_COUNT
    make_registry(tmp_path / "models", {"ana": 1, "bo": 2})
    (tmp_path / "moved.yaml").write_text(SHOW.replace("{directions}", ", directions: {0: 4, 2: -3.5}"))
    (tmp_path / "plain.yaml").write_text(SHOW.replace("{directions}", ""))
    moved, plain = check_show(tmp_path / "moved.yaml"), check_show(tmp_path / "plain.yaml")
    assert moved.scenes[0].walk.directions == ((0, 4.0), (2, -3.5)) and plain.scenes[0].walk.directions == ()
    result = run_cli("export", "moved.yaml", "-o", "film", "--codec", "png", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    exported = {int(p.stem.split("-")[-1]): np.asarray(Image.open(p)) for p in (tmp_path / "film").glob("*.png")}
    assert len(exported) == 10
    out = OffscreenOutput(64, 48)
    renderer = Renderer(ModelPool.from_registry(plain.registry), out)
    frames = ShowFrames(plain)
    sent = control.fold([control.ControlEvent(0.0, "/likeness/direction/0", (4.0,)),
                         control.ControlEvent(0.0, "/likeness/direction/2", (-3.5,))], frames.limits)
    for k in (0, 4, 9):
        render(frames, renderer, control.initial_state(0.0), k / 10)
        unmoved = out.read_rgb()
        render(frames, renderer, sent, k / 10)
        assert np.array_equal(out.read_rgb(), exported[k]), f"frame {k}"
        assert not np.array_equal(unmoved, exported[k])
    # OSC adds to the scene's value: sending the opposite brings the plain frame back
    back = control.fold([control.ControlEvent(0.0, "/likeness/direction/0", (-4.0,)),
                         control.ControlEvent(0.0, "/likeness/direction/2", (3.5,))], frames.limits)
    render(ShowFrames(moved), renderer, back, 0.4)
    moved_back = out.read_rgb()
    render(frames, renderer, control.initial_state(0.0), 0.4)
    assert np.array_equal(moved_back, out.read_rgb())
