"""One synthesis call across models: each model's slice equals that model's own call, in the renderer too."""

import numpy as np
import pytest
import torch

from installation.cross_batch import StackCache, StackedSynthesis, pad_to
from installation.layouts import GridLayout, grid
from installation.model_pool import ModelPool
from installation.outputs import OffscreenOutput
from installation.renderer import FrameRequest, Renderer, windows_for
from installation.walks import WalkSpec
from tests.render_models import make_registry, tiny_generator


@pytest.mark.parametrize("batch, level", [(1, None), (3, None), (2, 16)])
def test_stacked_synthesis_equals_each_models_own_call(batch, level):
    networks = [tiny_generator(seed).synthesis for seed in (1, 2, 3)]
    torch.manual_seed(0)
    ws = torch.randn(3, batch, networks[0].num_ws, networks[0].w_dim)
    with torch.no_grad():
        got = StackedSynthesis(networks)(ws, max_resolution=level)
        want = torch.stack([n(ws[m], noise_mode="const", max_resolution=level) for m, n in enumerate(networks)])
    assert got.shape == want.shape == (3, batch, 3, level or 32, level or 32)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-5)
    assert (want[0] - want[1]).abs().max() > 0.1  # the models differ, so a mixed-up slice would show


def test_only_one_architecture_stacks_and_ws_must_match():
    with pytest.raises(ValueError, match="one architecture"):
        StackedSynthesis([tiny_generator(1).synthesis, tiny_generator(2, resolution=16).synthesis])
    stack = StackedSynthesis([tiny_generator(1).synthesis, tiny_generator(2).synthesis])
    with pytest.raises(ValueError, match=r"ws must be \[2, B"):
        stack(torch.zeros(3, 1, stack._template.num_ws, 16))


def test_pad_repeats_the_last_latent_and_the_cache_keeps_a_few():
    a, b = torch.randn(1, 4, 2), torch.randn(3, 4, 2)
    padded = pad_to([a, b])
    assert padded.shape == (2, 3, 4, 2) and torch.equal(padded[0, 2], a[0]) and torch.equal(padded[1], b)
    cache, nets = StackCache(keep=2), [tiny_generator(1).synthesis]
    first = cache.get("x", nets)
    assert cache.get("x", nets) is first
    cache.get("y", nets), cache.get("z", nets)
    assert len(cache) == 2 and cache.get("x", nets) is not first  # the oldest went


@pytest.fixture(scope="module")
def egl():
    out = OffscreenOutput(112, 76)
    yield out
    out.release()


def test_a_grid_drawn_across_models_is_the_grid_drawn_per_model(egl, tmp_path):
    pool = ModelPool.from_registry(make_registry(tmp_path, {"ana": 1, "bo": 2, "cy": 3}))
    arrangement = grid(GridLayout(rows=2, cols=3, gap=4, margin=4), 112, 76)
    walk = WalkSpec(seeds=(0, 5, 9), seconds=2.0, phase=0.7)
    # five windows over three people: two each for ana and bo, one for cy (padded in the stacked call)
    request = FrameRequest(windows_for(arrangement, pool.people, walk, 1.3)[:5], background=(0.2, 0.4, 0.6))
    frames = []
    for cross in (False, True):
        renderer = Renderer(pool, egl, cross_batch=cross)
        renderer.draw(request)
        frames.append(egl.read_rgb().astype(int))
        assert renderer.images_drawn == 5  # padding is not counted as drawn
    assert len(renderer._stacks) == 1
    assert np.abs(frames[0] - frames[1]).max() <= 1  # rounding of the grouped convolutions
    assert frames[1].std() > 5


def test_a_nan_model_in_a_stack_is_retired_and_the_others_still_draw(egl, tmp_path):
    pool = ModelPool.from_registry(make_registry(tmp_path, {"ana": 1, "bo": 2}))
    with torch.no_grad():
        pool.models["bo"].G.synthesis.b32.conv1.weight.fill_(float("nan"))
    renderer = Renderer(pool, egl, cross_batch=True)
    arrangement = grid(GridLayout(rows=1, cols=2, gap=4, margin=4), 112, 76)
    request = FrameRequest(windows_for(arrangement, ["ana", "bo"], WalkSpec(seeds=(0,)), 0.0))
    first = renderer.images(request)
    assert first[0] is not None and first[1] is None  # bo's window black this frame, ana drawn
    assert "bo" not in pool.models and "NaN" in pool.refused["bo"]
    again = renderer.images(request)
    assert np.array_equal(again[0][1], first[0][1]) and np.array_equal(again[1][1], first[0][1])  # bo -> ana
