"""Latent walks: keyframes are hit, loops close without a jump (the cubic without a kink), slerp keeps norms,
and the interpolants agree with float64 NumPy formulas written out independently here."""

import math

import numpy as np
import pytest
import torch

from installation.walks import WalkSampler, WalkSpec, catmull_rom, loop_position, slerp
from tests.render_models import tiny_generator
from training.networks import zs_from_seeds


def np_slerp(a, b, u):
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    da, db = a / na, b / nb
    omega = math.acos(np.clip(np.dot(da, db), -1, 1))
    d = (math.sin((1 - u) * omega) * da + math.sin(u * omega) * db) / math.sin(omega)
    return d / np.linalg.norm(d) * ((1 - u) * na + u * nb)


def test_slerp_matches_float64_and_keeps_equal_norms():
    rng = np.random.RandomState(3)
    a, b = rng.randn(2, 64)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    us = np.linspace(0, 1, 11)
    got = slerp(torch.tensor(np.tile(a, (11, 1)), dtype=torch.float32),
                torch.tensor(np.tile(b, (11, 1)), dtype=torch.float32), torch.tensor(us, dtype=torch.float32))
    want = np.stack([np_slerp(a, b, u) for u in us])
    assert np.abs(got.numpy() - want).max() < 1e-4
    assert np.allclose(np.linalg.norm(got.numpy(), axis=1), np.linalg.norm(a), rtol=1e-5)


def test_catmull_rom_passes_through_its_keys_with_central_tangents():
    p = [torch.tensor([[float(v), float(v * v)]], dtype=torch.float64) for v in (0, 1, 3, 2)]
    u = torch.tensor([-1e-4, 0.0, 1.0, 1e-4], dtype=torch.float64)
    before, at0, at1, after = catmull_rom(*p, u)
    assert torch.allclose(at0, p[1][0]) and torch.allclose(at1, p[2][0])
    slope = (after - before) / 2e-4
    assert torch.allclose(slope, (p[2][0] - p[0][0]) / 2, atol=1e-6)


def test_loop_position_wraps():
    index, frac = loop_position(torch.tensor([0.0, 2.5, 4.0, -0.25, 9.75], dtype=torch.float64), 4)
    assert index.tolist() == [0, 2, 0, 3, 1]
    assert np.allclose(frac.numpy(), [0, 0.5, 0, 0.75, 0.75])


@pytest.fixture(scope="module")
def G():
    return tiny_generator(5)


def test_seed_keyframes_are_hit_exactly_as_generate_maps_them(G):
    walk = WalkSpec(seeds=(4, 9, 2))
    sampler = WalkSampler(G, walk)
    ws = sampler.ws(torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64))
    want = G.mapping(zs_from_seeds([4, 9, 2], G.z_dim), None)
    assert torch.allclose(ws, want, atol=1e-5)


@pytest.mark.parametrize("interpolation,space", [("slerp", "z"), ("linear", "w"), ("cubic", "w")])
def test_loops_close_without_a_jump(G, interpolation, space):
    walk = WalkSpec(seeds=(1, 2, 3, 4), interpolation=interpolation, space=space, seconds=2.0)
    sampler = WalkSampler(G, walk)
    eps = 1e-4
    near_end, start, after = sampler.ws(torch.tensor([4 - eps, 0.0, eps], dtype=torch.float64))[:, 0]
    step = (after - start).norm()
    assert (start - near_end).norm() < 3 * step  # no jump at the loop point: as close as any other neighbour
    if interpolation == "cubic":
        before_v = (start - near_end) / eps
        after_v = (after - start) / eps
        assert torch.allclose(before_v, after_v, rtol=0.02, atol=1e-3 * before_v.norm())


def test_cubic_velocity_is_continuous_at_every_key_but_linear_has_corners(G):
    cubic = WalkSampler(G, WalkSpec(seeds=(1, 2, 3), interpolation="cubic", space="w"))
    linear = WalkSampler(G, WalkSpec(seeds=(1, 2, 3), interpolation="linear", space="w"))
    eps = 1e-3
    t = torch.tensor([1 - eps, 1.0, 1 + eps], dtype=torch.float64)
    for sampler, smooth in ((cubic, True), (linear, False)):
        a, b, c = sampler.ws(t)[:, 0]
        v_in, v_out = (b - a) / eps, (c - b) / eps
        cosine = float(torch.dot(v_in, v_out) / (v_in.norm() * v_out.norm()))
        assert (cosine > 0.999) == smooth


def test_time_speed_and_phase_place_windows_on_the_walk(G):
    walk = WalkSpec(seeds=(1, 2), seconds=4.0, speed=2.0, phase=1.0)
    sampler = WalkSampler(G, walk)
    positions = sampler.positions(3.0, torch.tensor([0, 1, 2]))
    assert np.allclose(positions.numpy(), [(3 * 2 + k) / 4 for k in range(3)])


def test_truncation_pulls_toward_w_avg(G):
    full = WalkSampler(G, WalkSpec(seeds=(7,))).ws(torch.zeros(1, dtype=torch.float64))
    half = WalkSampler(G, WalkSpec(seeds=(7,), truncation=0.5)).ws(torch.zeros(1, dtype=torch.float64))
    assert torch.allclose(half, G.w_avg + 0.5 * (full - G.w_avg), atol=1e-6)


def test_noise_loop_is_closed_and_every_point_is_a_standard_normal_z(G):
    sampler = WalkSampler(G, WalkSpec(mode="noise", seed=11, seconds=5.0))
    a, b = sampler.keys
    theta = torch.linspace(0, 2 * math.pi, 7)
    z = a * torch.cos(theta)[:, None] + b * torch.sin(theta)[:, None]
    assert torch.allclose(z[0], z[-1], atol=1e-5)
    ws = sampler.ws(torch.tensor([0.0, 1.0, 0.25], dtype=torch.float64))
    assert torch.allclose(ws[0], ws[1], atol=1e-5) and not torch.allclose(ws[0], ws[2], atol=1e-3)
    # a and b are N(0, I): the circle's points have the same distribution; check the norms are sqrt(z_dim)-ish
    assert abs(float(z.norm(dim=1).mean()) / math.sqrt(G.z_dim) - 1) < 0.5


def test_saved_latents_are_keyframes(G, tmp_path):
    w = G.mapping(zs_from_seeds([3, 8], G.z_dim), None)[:, 0].numpy()
    np.save(tmp_path / "keys.npy", w)
    sampler = WalkSampler(G, WalkSpec(latents=tmp_path / "keys.npy", space="w", interpolation="linear"))
    got = sampler.ws(torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64))[:, 0]
    assert torch.allclose(got[:2], torch.from_numpy(w), atol=1e-6)
    assert torch.allclose(got[2], torch.from_numpy((w[0] + w[1]) / 2), atol=1e-6)


def test_bad_latents_are_one_line(G, tmp_path):
    from training.errors import DataError

    np.save(tmp_path / "bad.npy", np.zeros((2, 5), dtype=np.float32))
    with pytest.raises(DataError, match=r"do not fit a W walk"):
        WalkSampler(G, WalkSpec(latents=tmp_path / "bad.npy", space="w", interpolation="cubic"))


def test_walk_spec_refuses_mismatched_space():
    with pytest.raises(ValueError, match="slerp walks run in Z"):
        WalkSpec(space="w", interpolation="slerp")
