"""Equalised-learning-rate layers and the modulated convolution of StyleGAN2, in NVIDIA's storage conventions.

Equalised learning rate: a weight is stored as `randn / lr_multiplier` and scaled at run time by
`lr_multiplier / sqrt(fan_in)`; a bias is stored as its initial value and scaled by `lr_multiplier`. Activations
are multiplied by their gain (sqrt(2) for (leaky) ReLU) and, when `conv_clamp` is set, clamped to +-conv_clamp
(both scaled by a layer's extra `gain`). Storing exactly what NVIDIA stores lets an NVIDIA checkpoint be copied in
name by name and make the same images.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from training.resample import conv2d_resample, setup_filter

ACTIVATION_GAINS = {"linear": 1.0, "relu": math.sqrt(2), "lrelu": math.sqrt(2)}
LRELU_SLOPE = 0.2


def normalize_2nd_moment(x: torch.Tensor, dim: int = 1, eps: float = 1e-8) -> torch.Tensor:
    """Scale each vector to unit root-mean-square: the mapping network's input normalisation."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()


def bias_act(x: torch.Tensor, b: torch.Tensor | None = None, act: str = "linear", gain: float | None = None,
             clamp: float | None = None) -> torch.Tensor:
    """Bias, activation, gain and clamp, in NVIDIA's order; elementwise ops that torch.compile fuses into one."""
    if b is not None:
        x = x + b.to(x.dtype).reshape([1, -1] + [1] * (x.ndim - 2))
    if act == "lrelu":
        x = F.leaky_relu(x, LRELU_SLOPE)
    elif act == "relu":
        x = F.relu(x)
    elif act != "linear":
        raise ValueError(f"unknown activation {act!r}; use 'linear', 'relu' or 'lrelu'")
    gain = ACTIVATION_GAINS[act] if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


class FullyConnectedLayer(torch.nn.Module):
    """Dense layer with equalised learning rate (NVIDIA's FullyConnectedLayer)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str = "linear",
                 lr_multiplier: float = 1.0, bias_init: float = 0.0):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        self.weight = torch.nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)
        self.bias = torch.nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b = None
        if self.bias is not None:
            b = self.bias.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear":
            return F.linear(x, w, b)
        return bias_act(F.linear(x, w), b, act=self.activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, activation={self.activation}"


class Conv2dLayer(torch.nn.Module):
    """Convolution with equalised learning rate and optional FIR up/downsampling (NVIDIA's Conv2dLayer)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: str = "linear", up: int = 1, down: int = 1,
                 resample_filter: tuple[float, ...] = (1, 3, 3, 1), conv_clamp: float | None = None):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.activation = activation
        self.up = up
        self.down = down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)
        self.act_gain = ACTIVATION_GAINS[activation]
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels])) if bias else None

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        w = (self.weight * self.weight_gain).to(dtype=x.dtype, memory_format=_format_of(x))
        x = conv2d_resample(x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, activation={self.activation}, "
                f"up={self.up}, down={self.down}")


def _format_of(x: torch.Tensor) -> torch.memory_format:
    """channels_last when x is laid out so (and not trivially both), so weights are cast once into cuDNN's layout.

    Inside torch.func.vmap (the renderer's batch across models, installation/cross_batch.py) a tensor's layout
    cannot be asked; there the default layout is the answer.
    """
    if x.ndim != 4 or x.is_contiguous():
        return torch.contiguous_format
    try:
        if x.is_contiguous(memory_format=torch.channels_last):
            return torch.channels_last
    except RuntimeError:  # "NYI: querying is_contiguous inside of vmap"
        pass
    return torch.contiguous_format


def demodulation_coefficients(weight: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
    """1 / sqrt(sum over (i, ky, kx) of (w[o,i,ky,kx] * s[n,i])^2 + 1e-8), as an [N, I] x [I, O] matmul.

    The sum factors into styles^2 times the per-(o, i) energy of the weight, so the [N, O, I, k, k] tensor of
    modulated weights is never built.
    """
    energy = weight.square().sum(dim=[2, 3])  # [O, I]
    return (styles.square() @ energy.t() + 1e-8).rsqrt()  # [N, O]


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, noise: torch.Tensor | None = None,
                     up: int = 1, padding: int = 0, resample_filter: torch.Tensor | None = None,
                     demodulate: bool = True, fused_modconv: bool = True) -> torch.Tensor:
    """StyleGAN2's modulated (and demodulated) convolution: conv(x, w * s[n, i] * d[n, o]) + noise.

    Two equivalent code paths:
    - fused (`fused_modconv=True`): build each sample's modulated weight and run one grouped convolution (groups =
      batch). Best at batch 1, where it is an ordinary convolution; a 1x1 kernel (toRGB) becomes a batched matmul.
    - activation-scaled (`fused_modconv=False`): scale the input by the styles, run one ordinary convolution with
      the shared weight, multiply the output by the demodulation coefficients. Grouped convolutions are slow in
      cuDNN, so this is the fast form for batches larger than one, and for training.

    `weight` is the stored [O, I, k, k] weight: demodulation makes its scale irrelevant, and toRGB (not demodulated)
    folds its equalised-lr gain into the styles, as NVIDIA does. `x` may be float32, bfloat16 or float16 (float16
    is pre-normalised as NVIDIA does, so that it cannot overflow).
    """
    batch = x.shape[0]
    out_channels, in_channels, kh, kw = weight.shape
    if x.dtype == torch.float16 and demodulate:
        weight = weight * (1 / math.sqrt(in_channels * kh * kw)
                           / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)
    dcoefs = demodulation_coefficients(weight, styles) if demodulate else None

    if not fused_modconv:
        x = x * styles.to(x.dtype).reshape(batch, -1, 1, 1)
        w = weight.to(dtype=x.dtype, memory_format=_format_of(x))
        x = conv2d_resample(x, w, resample_filter, up=up, padding=padding)
        if dcoefs is not None and noise is not None:
            return torch.addcmul(noise.to(x.dtype), x, dcoefs.to(x.dtype).reshape(batch, -1, 1, 1))
        if dcoefs is not None:
            return x * dcoefs.to(x.dtype).reshape(batch, -1, 1, 1)
        return x + noise.to(x.dtype) if noise is not None else x

    w = weight.unsqueeze(0) * styles.reshape(batch, 1, -1, 1, 1)  # [N, O, I, k, k]
    if dcoefs is not None:
        w = w * dcoefs.reshape(batch, -1, 1, 1, 1)
    w = w.to(x.dtype)
    if kh == 1 and kw == 1 and up == 1 and padding == 0:
        x = _batched_1x1(x, w.reshape(batch, out_channels, in_channels))
    else:
        height, width = x.shape[2], x.shape[3]
        x = x.reshape(1, batch * in_channels, height, width)
        x = conv2d_resample(x, w.reshape(batch * out_channels, in_channels, kh, kw), resample_filter, up=up,
                            padding=padding, groups=batch)
        x = x.reshape(batch, out_channels, x.shape[2], x.shape[3])
    return x + noise.to(x.dtype) if noise is not None else x


def _batched_1x1(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Per-sample 1x1 convolution [N, I, H, W] x [N, O, I] as one batched matmul, in x's memory layout."""
    batch, in_channels, height, width = x.shape
    out_channels = w.shape[1]
    if _format_of(x) == torch.channels_last:
        y = torch.matmul(x.permute(0, 2, 3, 1).reshape(batch, height * width, in_channels), w.transpose(1, 2))
        return y.reshape(batch, height, width, out_channels).permute(0, 3, 1, 2)
    return torch.matmul(w, x.reshape(batch, in_channels, height * width)).reshape(batch, out_channels, height, width)
