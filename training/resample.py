"""FIR resampling with NVIDIA's `upfirdn2d` semantics, built from ordinary PyTorch convolutions.

NVIDIA compiles a CUDA kernel at run time for this (the most common way their code breaks). Here each case is one
cuDNN call: a depthwise convolution (filtering, and strided for downsampling) or a depthwise transposed
convolution (zero-insertion and filtering in one go for upsampling). Nothing loops per pixel, nothing syncs with
the host, and torch.compile sees ordinary ops.

Conventions (those of NVIDIA's `torch_utils/ops/upfirdn2d.py` and `conv2d_resample.py`, so that the same weights
give the same images):

- A filter is float32, `[taps]` (separable) or `[h, w]`; `setup_filter([1, 3, 3, 1])` gives the normalised 4x4
  outer product (NVIDIA treats 1-D filters shorter than 8 taps as non-separable 2-D ones, and so do we, because
  the buffers' shapes must match theirs).
- `upfirdn2d`: insert `up - 1` zeros after every pixel, pad by `padding` (x0, x1, y0, y1; negative crops),
  convolve with the filter (true convolution unless `flip_filter`), keep every `down`-th pixel.
- `conv2d_resample` applies a weight as PyTorch's `conv2d` does (correlation) when not upsampling, and as
  `conv_transpose2d` does when upsampling: the pair NVIDIA's layers use (`flip_weight = (up == 1)`).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

Padding = int | Sequence[int]


def setup_filter(taps: Sequence[float] | torch.Tensor = (1, 3, 3, 1), normalize: bool = True, gain: float = 1.0,
                 separable: bool | None = None) -> torch.Tensor:
    """A float32 FIR filter laid out as NVIDIA's buffers are (`resample_filter` is 4x4 for [1,3,3,1])."""
    f = torch.as_tensor(taps, dtype=torch.float32)
    if f.ndim == 0:
        f = f[None]
    if f.ndim not in (1, 2) or f.numel() == 0:
        raise ValueError(f"a filter must have 1 or 2 dimensions and at least one tap, got shape {tuple(f.shape)}")
    if separable is None:
        separable = f.ndim == 1 and f.numel() >= 8
    if f.ndim == 1 and not separable:
        f = torch.outer(f, f)
    if normalize:
        f = f / f.sum()
    return f * (gain ** (f.ndim / 2))


def parse_padding(padding: Padding) -> tuple[int, int, int, int]:
    """int, (x, y) or (x0, x1, y0, y1) -> (x0, x1, y0, y1), the order F.pad takes."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    padding = [int(p) for p in padding]
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    if len(padding) == 4:
        return padding[0], padding[1], padding[2], padding[3]
    raise ValueError(f"padding must be an int, (x, y) or (x0, x1, y0, y1), got {padding}")


def filter_size(f: torch.Tensor | None) -> tuple[int, int]:
    """(width, height) of a filter; a separable filter is square."""
    if f is None:
        return 1, 1
    return int(f.shape[-1]), int(f.shape[0])


def _depthwise(kernel: torch.Tensor, channels: int, dtype: torch.dtype) -> torch.Tensor:
    return kernel.to(dtype)[None, None].repeat(channels, 1, 1, 1)


def _fir_pass(x: torch.Tensor, kernel: torch.Tensor, up: tuple[int, int], down: tuple[int, int],
              pads: tuple[int, int, int, int], flip_filter: bool) -> torch.Tensor:
    """One depthwise pass with a 2-D kernel [kh, kw]; `up`/`down` are (y, x) factors."""
    channels = x.shape[1]
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    px0, px1, py0, py1 = pads
    if up == (1, 1):
        # Padding then a strided correlation with the flipped kernel is NVIDIA's pad + convolve + subsample.
        weight = _depthwise(kernel if flip_filter else kernel.flip([0, 1]), channels, x.dtype)
        if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
            return F.conv2d(x, weight, stride=down, padding=(py0, px0), groups=channels)
        return F.conv2d(F.pad(x, [px0, px1, py0, py1]), weight, stride=down, groups=channels)

    # A transposed convolution is zero-insertion followed by a full convolution. NVIDIA's output is a window of
    # that full signal: it starts `k - 1 - pad0` samples in and ends `k - up - pad1` samples before its end.
    weight = _depthwise(kernel.flip([0, 1]) if flip_filter else kernel, channels, x.dtype)
    sx, sy = kw - 1 - px0, kh - 1 - py0
    ex, ey = kw - up[1] - px1, kh - up[0] - py1
    if sx == ex and sy == ey and sx >= 0 and sy >= 0:
        y = F.conv_transpose2d(x, weight, stride=up, padding=(sy, sx), groups=channels)
    else:
        y = F.pad(F.conv_transpose2d(x, weight, stride=up, groups=channels), [-sx, -ex, -sy, -ey])
    if down != (1, 1):
        y = y[:, :, ::down[0], ::down[1]]
    return y


def upfirdn2d(x: torch.Tensor, f: torch.Tensor | None, up: int = 1, down: int = 1, padding: Padding = 0,
              flip_filter: bool = False, gain: float = 1.0) -> torch.Tensor:
    """Upsample (zero insertion), pad, FIR-filter and downsample every channel of [N, C, H, W]."""
    if f is None:
        f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
    pads = parse_padding(padding)
    if gain != 1:
        f = f * (gain ** (f.ndim / 2))
    if f.ndim == 2:
        return _fir_pass(x, f, (up, up), (down, down), pads, flip_filter)
    x = _fir_pass(x, f[None, :], (1, up), (1, down), (pads[0], pads[1], 0, 0), flip_filter)
    return _fir_pass(x, f[:, None], (up, 1), (down, 1), (0, 0, pads[2], pads[3]), flip_filter)


def upsample2d(x: torch.Tensor, f: torch.Tensor | None, up: int = 2, padding: Padding = 0,
               flip_filter: bool = False, gain: float = 1.0) -> torch.Tensor:
    """Upsample by `up`, padded so that the result is exactly `up` times the input (NVIDIA's upsample2d)."""
    px0, px1, py0, py1 = parse_padding(padding)
    fw, fh = filter_size(f)
    pads = [px0 + (fw + up - 1) // 2, px1 + (fw - up) // 2, py0 + (fh + up - 1) // 2, py1 + (fh - up) // 2]
    return upfirdn2d(x, f, up=up, padding=pads, flip_filter=flip_filter, gain=gain * up * up)


def downsample2d(x: torch.Tensor, f: torch.Tensor | None, down: int = 2, padding: Padding = 0,
                 flip_filter: bool = False, gain: float = 1.0) -> torch.Tensor:
    """Downsample by `down`, padded so that the result is exactly 1/`down` of the input (NVIDIA's downsample2d)."""
    px0, px1, py0, py1 = parse_padding(padding)
    fw, fh = filter_size(f)
    pads = [px0 + (fw - down + 1) // 2, px1 + (fw - down) // 2, py0 + (fh - down + 1) // 2, py1 + (fh - down) // 2]
    return upfirdn2d(x, f, down=down, padding=pads, flip_filter=flip_filter, gain=gain)


def filter2d(x: torch.Tensor, f: torch.Tensor | None, padding: Padding = 0, flip_filter: bool = False,
             gain: float = 1.0) -> torch.Tensor:
    """Filter without changing the size (NVIDIA's filter2d)."""
    px0, px1, py0, py1 = parse_padding(padding)
    fw, fh = filter_size(f)
    pads = [px0 + fw // 2, px1 + (fw - 1) // 2, py0 + fh // 2, py1 + (fh - 1) // 2]
    return upfirdn2d(x, f, padding=pads, flip_filter=flip_filter, gain=gain)


def _transpose_weight(w: torch.Tensor, groups: int) -> torch.Tensor:
    """[O, I/g, kh, kw] -> [I, O/g, kh, kw], the layout conv_transpose2d wants for the same grouping."""
    out_channels, in_per_group, kh, kw = w.shape
    if groups == 1:
        return w.transpose(0, 1)
    w = w.reshape(groups, out_channels // groups, in_per_group, kh, kw).transpose(1, 2)
    return w.reshape(groups * in_per_group, out_channels // groups, kh, kw)


def conv2d_resample(x: torch.Tensor, w: torch.Tensor, f: torch.Tensor | None = None, up: int = 1, down: int = 1,
                    padding: Padding = 0, groups: int = 1) -> torch.Tensor:
    """Convolution with FIR up- or downsampling, each case as the cheapest pair of cuDNN calls.

    `padding` is with respect to the upsampled image, as in NVIDIA's conv2d_resample; up and down together are
    not supported (no StyleGAN2 layer uses them).
    """
    if up > 1 and down > 1:
        raise ValueError("conv2d_resample does not support up- and downsampling at once")
    kh, kw = int(w.shape[2]), int(w.shape[3])
    fw, fh = filter_size(f)
    px0, px1, py0, py1 = parse_padding(padding)
    if up > 1:
        px0, px1 = px0 + (fw + up - 1) // 2, px1 + (fw - up) // 2
        py0, py1 = py0 + (fh + up - 1) // 2, py1 + (fh - up) // 2
    if down > 1:
        px0, px1 = px0 + (fw - down + 1) // 2, px1 + (fw - down) // 2
        py0, py1 = py0 + (fh - down + 1) // 2, py1 + (fh - down) // 2

    if down > 1:
        if kh == 1 and kw == 1:  # subsample first: the 1x1 conv then runs on a quarter of the pixels
            x = upfirdn2d(x, f, down=down, padding=[px0, px1, py0, py1])
            return F.conv2d(x, w, groups=groups)
        x = upfirdn2d(x, f, padding=[px0, px1, py0, py1])
        return F.conv2d(x, w, stride=down, groups=groups)

    if up > 1:
        if kh == 1 and kw == 1:  # convolve first: the 1x1 conv runs on a quarter of the pixels
            x = F.conv2d(x, w, groups=groups)
            return upfirdn2d(x, f, up=up, padding=[px0, px1, py0, py1], gain=up * up)
        px0, px1, py0, py1 = px0 - (kw - 1), px1 - (kw - up), py0 - (kh - 1), py1 - (kh - up)
        pxt, pyt = max(min(-px0, -px1), 0), max(min(-py0, -py1), 0)
        x = F.conv_transpose2d(x, _transpose_weight(w, groups), stride=up, padding=(pyt, pxt), groups=groups)
        return upfirdn2d(x, f, padding=[px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain=up * up)

    if px0 == px1 and py0 == py1 and px0 >= 0 and py0 >= 0:
        return F.conv2d(x, w, padding=(py0, px0), groups=groups)
    return F.conv2d(F.pad(x, [px0, px1, py0, py1]), w, groups=groups)
