"""FIR resampling against a float64 numpy computation of NVIDIA's upfirdn2d definition.

The reference follows the definition literally (insert zeros, pad or crop, true 2-D convolution, keep every
down-th pixel) with scipy's convolve2d, so it shares no code path with the depthwise-convolution implementation.
Filters are random and asymmetric so that a flipped filter or an off-by-one window cannot pass unnoticed.
"""

import numpy as np
import pytest
import scipy.signal
import torch

from training.resample import conv2d_resample, downsample2d, filter2d, setup_filter, upfirdn2d, upsample2d


def ref_upfirdn(x, f, up=1, down=1, pads=(0, 0, 0, 0), flip_filter=False, gain=1.0):
    x = np.asarray(x, dtype=np.float64)
    f = np.asarray(f, dtype=np.float64)
    if f.ndim == 1:
        f = np.outer(f, f)
    f = f * gain
    if flip_filter:
        f = f[::-1, ::-1]
    n, c, h, w = x.shape
    u = np.zeros((n, c, h * up, w * up))
    u[:, :, ::up, ::up] = x
    px0, px1, py0, py1 = pads
    u = np.pad(u, ((0, 0), (0, 0), (max(py0, 0), max(py1, 0)), (max(px0, 0), max(px1, 0))))
    u = u[:, :, max(-py0, 0):u.shape[2] - max(-py1, 0), max(-px0, 0):u.shape[3] - max(-px1, 0)]
    out = np.stack([np.stack([scipy.signal.convolve2d(u[i, j], f, mode="valid") for j in range(c)])
                    for i in range(n)])
    return out[:, :, ::down, ::down]


def t64(a):
    return torch.from_numpy(np.ascontiguousarray(a)).to(torch.float64)


@pytest.fixture
def image():
    return torch.randn(2, 3, 9, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


@pytest.mark.parametrize("up,down,pads", [
    (1, 1, (0, 0, 0, 0)),
    (1, 1, (2, 1, 0, 3)),      # asymmetric padding
    (1, 2, (1, 2, 2, 1)),
    (1, 3, (-1, 2, 0, 1)),     # cropping on one side
    (2, 1, (2, 1, 2, 1)),      # upsample2d's window for a 4-tap filter
    (2, 1, (-1, 3, 1, -2)),    # crops and pads around the transposed convolution
    (3, 1, (1, 1, 2, 0)),
    (2, 2, (1, 2, 1, 2)),
])
@pytest.mark.parametrize("flip_filter", [False, True])
def test_upfirdn2d_matches_definition(image, up, down, pads, flip_filter):
    f = torch.rand(4, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64) + 0.1
    got = upfirdn2d(image, f, up=up, down=down, padding=pads, flip_filter=flip_filter, gain=1.7)
    want = ref_upfirdn(image.numpy(), f.numpy(), up, down, pads, flip_filter, gain=1.7)
    assert got.shape == want.shape
    torch.testing.assert_close(got, t64(want), rtol=1e-12, atol=1e-12)


def test_separable_filter_matches_its_outer_product(image):
    taps = torch.arange(1, 9, dtype=torch.float64)
    f = setup_filter(taps).to(torch.float64)
    assert f.shape == (8,)  # NVIDIA keeps filters of 8 taps or more separable
    got = upfirdn2d(image, f, up=2, down=1, padding=(4, 3, 4, 3), gain=4)
    want = ref_upfirdn(image.numpy(), f.numpy(), 2, 1, (4, 3, 4, 3), gain=4)
    torch.testing.assert_close(got, t64(want), rtol=1e-12, atol=1e-12)


def test_resample_filter_is_normalised_outer_product():
    f = setup_filter([1, 3, 3, 1])
    want = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0
    assert f.dtype == torch.float32 and f.shape == (4, 4)
    np.testing.assert_allclose(f.numpy(), want, rtol=0, atol=1e-7)


def test_up_down_filter_helpers_use_nvidias_windows(image):
    f = setup_filter([1, 3, 3, 1]).to(torch.float64)
    up = upsample2d(image, f)
    assert up.shape == (2, 3, 18, 14)
    # upsample2d: zero insertion, convolution with 4*f, the window starting one sample into the full result.
    u = np.zeros((2, 3, 18, 14))
    u[:, :, ::2, ::2] = image.numpy()
    full = np.stack([np.stack([scipy.signal.convolve2d(u[i, j], 4 * f.numpy()) for j in range(3)]) for i in range(2)])
    torch.testing.assert_close(up, t64(full[:, :, 1:19, 1:15]), rtol=1e-12, atol=1e-12)

    even = image[:, :, :8, :6]
    down = downsample2d(even, f)
    full = np.stack([np.stack([scipy.signal.convolve2d(even[i, j].numpy(), f.numpy()) for j in range(3)])
                     for i in range(2)])
    torch.testing.assert_close(down, t64(full[:, :, 2:10:2, 2:8:2]), rtol=1e-12, atol=1e-12)

    same = filter2d(image, f)
    assert same.shape == image.shape
    torch.testing.assert_close(same, t64(full_same(image.numpy(), f.numpy())), rtol=1e-12, atol=1e-12)


def full_same(x, f):
    """filter2d's window: pad fw//2 before and (fw-1)//2 after, then a valid convolution."""
    return ref_upfirdn(x, f, pads=(2, 1, 2, 1))


def ref_conv_resample(x, w, f, up, down, padding, groups=1):
    """NVIDIA's generic path: FIR (with upsampling), then the weight as a true convolution when upsampling
    (transposed-convolution convention) or as a correlation otherwise, then FIR downsampling."""
    x = x.numpy()
    w = w.numpy()
    f = f.numpy()
    fw = f.shape[-1]
    p0 = p1 = padding
    if up > 1:
        p0, p1 = p0 + (fw + up - 1) // 2, p1 + (fw - up) // 2
        z = ref_upfirdn(x, f, up=up, pads=(p0, p1, p0, p1), gain=up * up)
    else:
        if down > 1:
            p0, p1 = p0 + (fw - down + 1) // 2, p1 + (fw - down) // 2
        z = ref_upfirdn(x, f if down > 1 else np.ones((1, 1)), pads=(p0, p1, p0, p1))
    n, c = z.shape[:2]
    out_channels, in_per_group = w.shape[:2]
    out_per_group = out_channels // groups
    op = scipy.signal.convolve2d if up > 1 else scipy.signal.correlate2d
    rows = []
    for i in range(n):
        chans = []
        for o in range(out_channels):
            g = o // out_per_group
            chans.append(sum(op(z[i, g * in_per_group + k], w[o, k], mode="valid") for k in range(in_per_group)))
        rows.append(np.stack(chans))
    out = np.stack(rows)
    return t64(out[:, :, ::down, ::down])


@pytest.mark.parametrize("kernel,up,down", [(3, 1, 1), (3, 2, 1), (3, 1, 2), (1, 2, 1), (1, 1, 2), (1, 1, 1)])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_resample_matches_reference(kernel, up, down, groups):
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 8, 8, generator=gen, dtype=torch.float64)
    w = torch.randn(6, 4 // groups, kernel, kernel, generator=gen, dtype=torch.float64)
    f = torch.rand(4, 4, generator=gen, dtype=torch.float64) + 0.1  # asymmetric on purpose
    got = conv2d_resample(x, w, f, up=up, down=down, padding=kernel // 2, groups=groups)
    want = ref_conv_resample(x, w, f, up, down, kernel // 2, groups)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-11, atol=1e-11)


def test_conv2d_resample_refuses_up_and_down_together():
    with pytest.raises(ValueError, match="up- and downsampling"):
        conv2d_resample(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3), setup_filter(), up=2, down=2)
