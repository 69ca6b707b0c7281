"""StyleGAN2 networks: formulas against float64 references, NVIDIA's names and conventions, the generator API.

References are written here from the definitions (scipy convolutions in float64, explicit loops), not by calling
the code under test. NVIDIA's parameter names are listed by hand from reading stylegan2-ada-pytorch's
training/networks.py.
"""

import json
import math

import numpy as np
import pytest
import scipy.signal
import torch

from random_weights import randomise
from training.layers import modulated_conv2d
from training.networks import (Discriminator, Generator, MinibatchStdLayer, SynthesisLayer, ToRGBLayer, z_from_seed,
                               zs_from_seeds)

FIR = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0


def small_g(**kw):
    args = dict(img_resolution=32, z_dim=8, w_dim=8, mapping_layers=2, channel_base=128, channel_max=16)
    args.update(kw)
    return Generator(**args)


def small_d(**kw):
    args = dict(img_resolution=32, channel_base=128, channel_max=16, mapping_layers=2)
    args.update(kw)
    return Discriminator(**args)


# ---------------------------------------------------------------------------------------------------------------
# (a) the modulated convolution against its formula, in float64


def ref_modulated(x, weight, styles, demodulate, up):
    """conv(x, w * s[n, i] * d[n, o]) per sample; up=2 is zero insertion, 4*FIR and a true convolution."""
    x, weight, styles = (t.detach().double().numpy() for t in (x, weight, styles))
    n, c, h, wd = x.shape
    out = []
    for i in range(n):
        wmod = weight * styles[i][None, :, None, None]
        if demodulate:
            wmod = wmod / np.sqrt((wmod ** 2).sum(axis=(1, 2, 3)) + 1e-8)[:, None, None, None]
        chans = []
        for o in range(weight.shape[0]):
            if up == 1:
                acc = sum(scipy.signal.correlate2d(x[i, k], wmod[o, k], mode="same") for k in range(c))
            else:
                acc = 0
                for k in range(c):
                    u = np.zeros((2 * h, 2 * wd))
                    u[::2, ::2] = x[i, k]
                    full = scipy.signal.convolve2d(scipy.signal.convolve2d(u, 4 * FIR), wmod[o, k])
                    acc = acc + full[2:2 * h + 2, 2:2 * wd + 2]
            chans.append(acc)
        out.append(np.stack(chans))
    return torch.from_numpy(np.stack(out))


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("up", [1, 2])
def test_synthesis_layer_matches_formula(fused, up):
    torch.manual_seed(0)
    layer = randomise(SynthesisLayer(5, 4, w_dim=6, resolution=8 * up, up=up, conv_clamp=0.7))
    x = torch.randn(3, 5, 8, 8)
    w = torch.randn(3, 6)
    got = layer(x, w, noise_mode="const", fused_modconv=fused).double()

    # Equalised lr: styles = w @ (A / sqrt(w_dim)).T + b, with b initialised to 1.
    styles = w.double() @ (layer.affine.weight.double() / math.sqrt(6)).T + layer.affine.bias.double()
    y = ref_modulated(x, layer.weight, styles, demodulate=True, up=up)
    y = y + layer.noise_const.double() * layer.noise_strength.double() + layer.bias.double().reshape(1, -1, 1, 1)
    want = (torch.where(y >= 0, y, 0.2 * y) * math.sqrt(2)).clamp(-0.7, 0.7)
    assert 0 < (want.abs() == 0.7).double().mean() < 0.9  # the clamp is exercised, not everything is clamped
    torch.testing.assert_close(got, want, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("fused", [True, False])
def test_torgb_layer_matches_formula(fused):
    torch.manual_seed(1)
    layer = randomise(ToRGBLayer(5, 3, w_dim=6, conv_clamp=None))
    x = torch.randn(2, 5, 8, 8)
    w = torch.randn(2, 6)
    got = layer(x, w, fused_modconv=fused).double()
    # Not demodulated, so the weight gain 1/sqrt(fan_in) shows in the result.
    styles = (w.double() @ (layer.affine.weight.double() / math.sqrt(6)).T + layer.affine.bias.double()) / math.sqrt(5)
    want = ref_modulated(x, layer.weight, styles, demodulate=False, up=1) + layer.bias.double().reshape(1, -1, 1, 1)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=2e-6)


# ---------------------------------------------------------------------------------------------------------------
# (b) both modulated-convolution code paths agree


@pytest.mark.parametrize("kernel,up,demodulate", [(3, 1, True), (3, 2, True), (1, 1, False), (3, 1, False)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_modconv_paths_agree(kernel, up, demodulate, channels_last):
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(4, 6, 8, 8, generator=gen)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    weight = torch.randn(5, 6, kernel, kernel, generator=gen)
    styles = torch.randn(4, 6, generator=gen)
    noise = torch.randn(4, 1, 8 * up, 8 * up, generator=gen)
    f = torch.as_tensor(FIR, dtype=torch.float32)
    args = dict(noise=noise, up=up, padding=kernel // 2, resample_filter=f, demodulate=demodulate)
    fused = modulated_conv2d(x, weight, styles, fused_modconv=True, **args)
    scaled = modulated_conv2d(x, weight, styles, fused_modconv=False, **args)
    plain = modulated_conv2d(x.contiguous(), weight, styles, fused_modconv=False, **args)
    torch.testing.assert_close(fused, scaled, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(scaled, plain, rtol=1e-5, atol=1e-5)
    if demodulate and up == 1:
        ref = ref_modulated(x, weight, styles, True, 1) + noise.double()
        torch.testing.assert_close(fused.double(), ref, rtol=1e-5, atol=1e-5)


def test_generator_paths_agree():
    G = randomise(small_g())
    z = torch.randn(3, 8)
    fused = G(z, fused_modconv=True)
    scaled = G(z, fused_modconv=False)
    torch.testing.assert_close(fused, scaled, rtol=1e-5, atol=1e-5)
    assert fused.std() > 0.1


# ---------------------------------------------------------------------------------------------------------------
# (d) shapes, num_ws, every resolution


@pytest.mark.parametrize("res", [4, 8, 16, 32, 64])
def test_generator_shapes_and_num_ws(res):
    G = small_g(img_resolution=res, img_channels=1 if res == 8 else 3)
    # Two ws per block (one for the 4x4 block's single conv, one for the last toRGB) = 2 log2(res) - 2.
    assert G.num_ws == 2 * int(math.log2(res)) - 2
    ws = G.mapping(torch.randn(2, 8))
    assert ws.shape == (2, G.num_ws, 8)
    img = G.synthesis(ws)
    assert img.shape == (2, G.img_channels, res, res) and img.dtype == torch.float32
    if res >= 8:
        D = small_d(img_resolution=res, img_channels=G.img_channels)
        assert D(img).shape == (2, 1)


@pytest.mark.parametrize("res", [2 ** k for k in range(2, 11)])
def test_every_power_of_two_constructs(res):
    G = Generator(img_resolution=res, z_dim=4, w_dim=4, mapping_layers=1, channel_base=2 * res, channel_max=4)
    assert G.num_ws == 2 * int(math.log2(res)) - 2
    assert G.synthesis.block_resolutions == [2 ** k for k in range(2, int(math.log2(res)) + 1)]
    if res >= 8:
        D = Discriminator(img_resolution=res, channel_base=2 * res, channel_max=4)
        assert D.block_resolutions == [2 ** k for k in range(int(math.log2(res)), 2, -1)]


def config_f_generator_params(res, base=32768, cmax=512, w=512, z=512, layers=8, rgb=3):
    """Parameter count of config F written out from the architecture, independently of the code."""
    ch = lambda r: min(base // r, cmax)  # noqa: E731
    total = layers * (w * w + w) + (z - w) * w  # mapping (first layer takes z)
    def modconv(cin, cout):
        return cout * cin * 9 + cout + 1 + w * cin + cin  # weight, bias, noise strength, affine
    def torgb(cin):
        return rgb * cin + rgb + w * cin + cin
    total += ch(4) * 16 + modconv(ch(4), ch(4)) + torgb(ch(4))
    r = 8
    while r <= res:
        total += modconv(ch(r // 2), ch(r)) + modconv(ch(r), ch(r)) + torgb(ch(r))
        r *= 2
    return total


def test_config_f_1024_size_on_meta_device():
    with torch.device("meta"):
        G = Generator(img_resolution=1024)
        D = Discriminator(img_resolution=1024)
    count = sum(p.numel() for p in G.parameters())
    assert count == config_f_generator_params(1024)
    assert count == 30_370_060  # the figure NVIDIA's stylegan2-ada-pytorch prints for FFHQ config F
    assert G.num_ws == 18
    assert D.b1024.fromrgb.weight.shape == (32, 3, 1, 1) and D.b4.fc.weight.shape == (512, 512 * 16)


def test_bad_arguments_are_refused():
    G = small_g()
    with pytest.raises(ValueError, match="power of two"):
        small_g(img_resolution=48)
    with pytest.raises(ValueError, match="ws must be"):
        G.synthesis(torch.zeros(1, G.num_ws + 1, 8))
    with pytest.raises(ValueError, match="noise_mode"):
        G(torch.zeros(1, 8), noise_mode="fixed")
    with pytest.raises(ValueError, match="z must be"):
        G(torch.zeros(1, 9))
    with pytest.raises(ValueError, match="at least 8"):
        Discriminator(img_resolution=4)


# ---------------------------------------------------------------------------------------------------------------
# (e) level of detail


def test_max_resolution_returns_the_intermediate_rgb():
    G = randomise(small_g())
    ws = G.mapping(torch.randn(2, 8))
    seen = {}
    hooks = [getattr(G.synthesis, f"b{r}").register_forward_hook(
        lambda mod, args, out, r=r: seen.__setitem__(r, out[1].clone())) for r in (4, 8, 16, 32)]
    full = G.synthesis(ws)
    for h in hooks:
        h.remove()
    assert torch.equal(full, seen[32])
    for r in (4, 8, 16):
        lod = G.synthesis(ws, max_resolution=r)
        assert lod.shape == (2, 3, r, r)
        assert torch.equal(lod, seen[r])
        assert not torch.equal(lod, full[:, :, :r, :r])
    z1 = torch.randn(1, 8)
    assert torch.equal(G(z1, max_resolution=8), G.synthesis(G.mapping(z1), max_resolution=8))
    for bad in (2, 12, 64):
        with pytest.raises(ValueError, match="max_resolution"):
            G.synthesis(ws, max_resolution=bad)


# ---------------------------------------------------------------------------------------------------------------
# (f) truncation and noise


def test_truncation_pulls_toward_w_avg():
    G = randomise(small_g())
    z = torch.randn(3, 8)
    ws = G.mapping(z)
    w_avg = G.w_avg
    assert w_avg is G.mapping.w_avg and w_avg.abs().sum() > 0
    torch.testing.assert_close(G.mapping(z, truncation_psi=0.6), w_avg + 0.6 * (ws - w_avg))
    cut = G.mapping(z, truncation_psi=0.6, truncation_cutoff=3)
    torch.testing.assert_close(cut[:, :3], w_avg + 0.6 * (ws[:, :3] - w_avg))
    assert torch.equal(cut[:, 3:], ws[:, 3:])
    per_sample = G.mapping(z, truncation_psi=torch.tensor([0.0, 0.5, 1.0]))
    torch.testing.assert_close(per_sample[0], w_avg.expand(G.num_ws, -1))
    torch.testing.assert_close(per_sample[2], ws[2])
    torch.testing.assert_close(G(z, truncation_psi=0.6), G.synthesis(w_avg + 0.6 * (ws - w_avg)))


def test_update_emas_moves_w_avg_toward_the_batch_mean():
    G = randomise(small_g(w_avg_beta=0.9))
    before = G.w_avg.clone()
    z = torch.randn(5, 8)
    ws = G.mapping(z)
    assert torch.equal(G.w_avg, before)  # never updated unless asked
    G.mapping(z, update_emas=True)
    torch.testing.assert_close(G.w_avg, ws[:, 0].mean(0) + 0.9 * (before - ws[:, 0].mean(0)))


def test_noise_modes():
    G = randomise(small_g())
    z = torch.randn(2, 8)
    const = G(z, noise_mode="const")
    assert torch.equal(const, G(z, noise_mode="const"))
    random1, random2 = G(z, noise_mode="random"), G(z, noise_mode="random")
    assert (random1 - random2).abs().max() > 1e-3
    none = G(z, noise_mode="none")
    assert (none - const).abs().max() > 1e-3
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.zero_()
    torch.testing.assert_close(G(z, noise_mode="random"), G(z, noise_mode="none"))
    torch.testing.assert_close(G(z, noise_mode="const"), G(z, noise_mode="none"))


# ---------------------------------------------------------------------------------------------------------------
# (g) conditioning


def test_conditional_generator_and_discriminator():
    G = randomise(small_g(c_dim=3))
    D = randomise(small_d(c_dim=3))
    z = torch.randn(2, 8).repeat(2, 1)
    c = torch.eye(3)[[0, 1, 2, 2]]
    img = G(z, c)
    assert img.shape == (4, 3, 32, 32)
    assert (img[0] - img[2]).abs().max() > 1e-3  # same z, other class
    logits = D(img, c)
    assert logits.shape == (4, 1)
    # The label enters through the projection: same images, other labels, other logits.
    assert (D(img, c.flip(0)) - logits).abs().max() > 1e-6
    with pytest.raises(ValueError, match="conditional"):
        G(z)
    with pytest.raises(ValueError, match="conditional"):
        D(img)
    unconditional = small_g()
    torch.testing.assert_close(unconditional(z, torch.zeros(4, 0)), unconditional(z))


# ---------------------------------------------------------------------------------------------------------------
# (h) minibatch standard deviation


def ref_mbstd(x, group_size, num_channels):
    x = x.double().numpy()
    n, c, h, w = x.shape
    g = n if group_size is None else min(group_size, n)
    m = n // g
    extra = np.zeros((n, num_channels, h, w))
    for i in range(n):
        members = [j for j in range(n) if j % m == i % m]  # NVIDIA's reshape puts strided samples together
        assert len(members) == g
        for f in range(num_channels):
            part = x[members][:, f * (c // num_channels):(f + 1) * (c // num_channels)]
            extra[i, f] = np.sqrt(part.var(axis=0) + 1e-8).mean()
    return torch.from_numpy(np.concatenate([x, extra], axis=1))


@pytest.mark.parametrize("n,group,channels", [(8, 4, 1), (8, 2, 2), (2, 4, 1), (3, 4, 1), (6, None, 1), (1, 4, 1)])
def test_minibatch_stddev_groups_as_nvidia(n, group, channels):
    x = torch.randn(n, 4, 3, 3, generator=torch.Generator().manual_seed(n))
    got = MinibatchStdLayer(group, channels)(x)
    torch.testing.assert_close(got.double(), ref_mbstd(x, group, channels), rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_refuses_a_batch_its_groups_do_not_divide():
    with pytest.raises(ValueError, match="groups of 4 do not divide a batch of 6"):
        MinibatchStdLayer(4)(torch.randn(6, 4, 3, 3))


# ---------------------------------------------------------------------------------------------------------------
# (i) NVIDIA's parameter names, shapes and storage conventions


def _synthesis_layer(prefix, cin, cout, res, w_dim):
    return [(f"{prefix}.weight", (cout, cin, 3, 3)), (f"{prefix}.noise_strength", ()), (f"{prefix}.bias", (cout,)),
            (f"{prefix}.resample_filter", (4, 4)), (f"{prefix}.noise_const", (res, res)),
            (f"{prefix}.affine.weight", (cin, w_dim)), (f"{prefix}.affine.bias", (cin,))]


def _torgb(prefix, cin, w_dim):
    return [(f"{prefix}.weight", (3, cin, 1, 1)), (f"{prefix}.bias", (3,)), (f"{prefix}.affine.weight", (cin, w_dim)),
            (f"{prefix}.affine.bias", (cin,))]


# Generator(z_dim=6, c_dim=3, w_dim=8, img_resolution=16, mapping_layers=2, channel_base=128, channel_max=16):
# channels 16 at 4 and 8, 8 at 16; NVIDIA's order is synthesis first, then mapping.
NVIDIA_G_NAMES = (
    [("synthesis.b4.const", (16, 4, 4)), ("synthesis.b4.resample_filter", (4, 4))]
    + _synthesis_layer("synthesis.b4.conv1", 16, 16, 4, 8) + _torgb("synthesis.b4.torgb", 16, 8)
    + [("synthesis.b8.resample_filter", (4, 4))]
    + _synthesis_layer("synthesis.b8.conv0", 16, 16, 8, 8) + _synthesis_layer("synthesis.b8.conv1", 16, 16, 8, 8)
    + _torgb("synthesis.b8.torgb", 16, 8)
    + [("synthesis.b16.resample_filter", (4, 4))]
    + _synthesis_layer("synthesis.b16.conv0", 16, 8, 16, 8) + _synthesis_layer("synthesis.b16.conv1", 8, 8, 16, 8)
    + _torgb("synthesis.b16.torgb", 8, 8)
    + [("mapping.w_avg", (8,)), ("mapping.embed.weight", (8, 3)), ("mapping.embed.bias", (8,)),
       ("mapping.fc0.weight", (8, 14)), ("mapping.fc0.bias", (8,)), ("mapping.fc1.weight", (8, 8)),
       ("mapping.fc1.bias", (8,))]
)

# Discriminator(c_dim=3, img_resolution=16, channel_base=128, channel_max=16, mapping_layers=2): cmap_dim = 16.
NVIDIA_D_NAMES = [
    ("b16.resample_filter", (4, 4)),
    ("b16.fromrgb.weight", (8, 3, 1, 1)), ("b16.fromrgb.bias", (8,)), ("b16.fromrgb.resample_filter", (4, 4)),
    ("b16.conv0.weight", (8, 8, 3, 3)), ("b16.conv0.bias", (8,)), ("b16.conv0.resample_filter", (4, 4)),
    ("b16.conv1.weight", (16, 8, 3, 3)), ("b16.conv1.bias", (16,)), ("b16.conv1.resample_filter", (4, 4)),
    ("b16.skip.weight", (16, 8, 1, 1)), ("b16.skip.resample_filter", (4, 4)),
    ("b8.resample_filter", (4, 4)),
    ("b8.conv0.weight", (16, 16, 3, 3)), ("b8.conv0.bias", (16,)), ("b8.conv0.resample_filter", (4, 4)),
    ("b8.conv1.weight", (16, 16, 3, 3)), ("b8.conv1.bias", (16,)), ("b8.conv1.resample_filter", (4, 4)),
    ("b8.skip.weight", (16, 16, 1, 1)), ("b8.skip.resample_filter", (4, 4)),
    ("mapping.embed.weight", (16, 3)), ("mapping.embed.bias", (16,)),
    ("mapping.fc0.weight", (16, 16)), ("mapping.fc0.bias", (16,)),
    ("mapping.fc1.weight", (16, 16)), ("mapping.fc1.bias", (16,)),
    ("b4.conv.weight", (16, 17, 3, 3)), ("b4.conv.bias", (16,)), ("b4.conv.resample_filter", (4, 4)),
    ("b4.fc.weight", (16, 256)), ("b4.fc.bias", (16,)),
    ("b4.out.weight", (16, 16)), ("b4.out.bias", (16,)),
]


def test_state_dict_names_and_shapes_are_nvidias():
    G = Generator(z_dim=6, c_dim=3, w_dim=8, img_resolution=16, mapping_layers=2, channel_base=128, channel_max=16)
    D = Discriminator(c_dim=3, img_resolution=16, channel_base=128, channel_max=16, mapping_layers=2)
    assert [(k, tuple(v.shape)) for k, v in G.state_dict().items()] == NVIDIA_G_NAMES
    assert [(k, tuple(v.shape)) for k, v in D.state_dict().items()] == NVIDIA_D_NAMES


def test_storage_conventions_are_nvidias():
    torch.manual_seed(0)
    G = Generator(img_resolution=8, z_dim=256, w_dim=256, mapping_layers=2, channel_base=512, channel_max=64)
    D = Discriminator(img_resolution=8, channel_base=512, channel_max=64)
    # Mapping weights are stored as randn / lr_multiplier (0.01), other weights as randn.
    assert 95 < G.mapping.fc0.weight.std() < 105 and G.mapping.fc0.bias.abs().max() == 0
    assert 0.97 < G.synthesis.b8.conv1.weight.std() < 1.03 and 0.9 < D.b8.conv0.weight.std() < 1.1
    assert torch.equal(G.synthesis.b8.conv0.affine.bias, torch.ones(64))  # styles start at 1
    assert G.synthesis.b8.conv0.noise_strength.item() == 0
    assert G.w_avg.abs().max() == 0
    np.testing.assert_allclose(G.synthesis.b8.conv0.resample_filter.numpy(), FIR, atol=1e-7)
    # Run-time gains: lr_multiplier / sqrt(fan_in) for weights, lr_multiplier for biases.
    assert G.mapping.fc0.weight_gain == pytest.approx(0.01 / 16) and G.mapping.fc0.bias_gain == 0.01
    assert D.b8.conv0.weight_gain == pytest.approx(1 / math.sqrt(64 * 9))
    assert G.synthesis.b8.torgb.weight_gain == pytest.approx(1 / 8)


def test_num_fp16_res_picks_nvidias_blocks():
    G = small_g(img_resolution=64, num_fp16_res=2)
    D = small_d(img_resolution=64, num_fp16_res=2)
    assert [r for r in G.synthesis.block_resolutions if getattr(G.synthesis, f"b{r}").use_fp16] == [32, 64]
    assert [r for r in D.block_resolutions if getattr(D, f"b{r}").use_fp16] == [64, 32]
    G = small_g(img_resolution=16, num_fp16_res=4)  # never below 8x8
    assert [r for r in G.synthesis.block_resolutions if getattr(G.synthesis, f"b{r}").use_fp16] == [8, 16]


# ---------------------------------------------------------------------------------------------------------------
# Reduced precision, rebuilding, gradients


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_blocks(dtype):
    G = randomise(small_g(num_fp16_res=2, conv_clamp=256))
    z = torch.randn(2, 8)
    reference = G(z)
    G.set_precision(dtype, channels_last=True, on_cpu=True)
    dtypes = {}
    for r in G.synthesis.block_resolutions:
        getattr(G.synthesis, f"b{r}").register_forward_hook(lambda m, a, out, r=r: dtypes.__setitem__(r, out[0].dtype))
    reduced = G(z)
    assert dtypes == {4: torch.float32, 8: torch.float32, 16: dtype, 32: dtype}
    assert reduced.dtype == torch.float32
    assert (reduced - reference).abs().max() < 0.1
    G.set_precision(None)
    assert torch.equal(G(z), reference)

    D = randomise(small_d(num_fp16_res=2, conv_clamp=256))
    logits = D(reference)
    D.set_precision(dtype, on_cpu=True)
    assert (D(reference) - logits).abs().max() < 0.05 * (1 + logits.abs().max())
    torch.testing.assert_close(D(reference, force_fp32=True), logits)


def test_reduced_precision_is_float32_on_cpu_by_default():
    G = randomise(small_g(num_fp16_res=2))
    z = torch.randn(2, 8)
    G.set_precision(torch.float16)
    reference = G(z)
    G.set_precision(None)
    assert torch.equal(G(z), reference)


def test_init_kwargs_rebuild_the_same_networks():
    G = randomise(small_g(c_dim=2, conv_clamp=256, num_fp16_res=1))
    D = randomise(small_d(c_dim=2, mbstd_group_size=2))
    G2 = Generator(**json.loads(json.dumps(G.init_kwargs)))
    D2 = Discriminator(**json.loads(json.dumps(D.init_kwargs)))
    G2.load_state_dict(G.state_dict())
    D2.load_state_dict(D.state_dict())
    z, c = torch.randn(2, 8), torch.eye(2)
    assert torch.equal(G2(z, c), G(z, c))
    img = G(z, c)
    assert torch.equal(D2(img, c), D(img, c))


def test_gradients_flow_including_r1_double_backward():
    G = randomise(small_g())
    D = randomise(small_d(mbstd_group_size=2))
    img = G(torch.randn(2, 8), noise_mode="random")
    real = img.detach().requires_grad_(True)
    (r1,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    loss = torch.nn.functional.softplus(-D(img)).mean() + r1.square().sum()
    loss.backward()
    for module in (G, D):
        for name, p in module.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert D.b32.conv0.weight.grad.abs().max() > 0 and G.synthesis.b32.conv1.noise_strength.grad.abs() > 0


# ---------------------------------------------------------------------------------------------------------------
# (j) seeds


def test_seeds_mean_nvidias_z():
    for seed in (0, 1, 85, 2**31):
        want = np.random.RandomState(seed).randn(1, 512)
        got = z_from_seed(seed, 512)
        assert got.shape == (1, 512) and got.dtype == torch.float32
        assert torch.equal(got, torch.from_numpy(want).float())
    batch = zs_from_seeds([3, 7, 3], 16)
    assert torch.equal(batch, torch.cat([z_from_seed(3, 16), z_from_seed(7, 16), z_from_seed(3, 16)]))
    assert zs_from_seeds([], 16).shape == (0, 16)
