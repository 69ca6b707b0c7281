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
