"""StyleGAN2 config F in pure PyTorch: mapping network, skip generator, residual discriminator.

Parameter and buffer names, shapes and storage conventions are those of NVIDIA's stylegan2-ada-pytorch
(`training/networks.py`, identical in stylegan3's `training/networks_stylegan2.py`), so that an NVIDIA checkpoint's
state copies in name by name and the same weights make the same images. How NVIDIA's and rosinality's names map
onto ours is written down in `docs/weights-naming.md`.

Public API (keyword arguments; `init_kwargs` rebuilds a network):

    G = Generator(img_resolution=256, z_dim=512, c_dim=0, w_dim=512, img_channels=3, mapping_layers=8,
                  channel_base=32768, channel_max=512, num_fp16_res=0, conv_clamp=None,
                  mapping_lr_multiplier=0.01, w_avg_beta=0.995)
    ws  = G.mapping(z, c=None, truncation_psi=1.0, truncation_cutoff=None, update_emas=False)  # [N, num_ws, w_dim]
    img = G.synthesis(ws, noise_mode='const', max_resolution=None)                            # [N, C, r, r]
    img = G(z, c=None, truncation_psi=1.0, truncation_cutoff=None, noise_mode='const', max_resolution=None)
    D = Discriminator(img_resolution=256, c_dim=0, ...);  logits = D(img, c=None)             # [N, 1]
    z = z_from_seed(seed, G.z_dim)                                                            # NVIDIA's seeds

`noise_mode` defaults to 'const' (the renderer's choice: no flicker); training must pass 'random' as NVIDIA's
loss does. `set_precision()` picks the reduced dtype for the `num_fp16_res` highest-resolution blocks (bfloat16 by
default, or float16 with NVIDIA's pre-normalisation and clamping); they run reduced only on CUDA unless told.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Iterable

import numpy as np
import torch

from training.layers import (ACTIVATION_GAINS, Conv2dLayer, FullyConnectedLayer, bias_act, modulated_conv2d,
                             normalize_2nd_moment)
from training.resample import setup_filter, upsample2d

NOISE_MODES = ("const", "random", "none")
RESAMPLE_FILTER = (1, 3, 3, 1)


# ---------------------------------------------------------------------------------------------------------------
# Seeds


def z_from_seed(seed: int, z_dim: int) -> torch.Tensor:
    """[1, z_dim] float32 latent of a seed, drawn as NVIDIA's generate.py draws it, so a seed means the same face."""
    return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim)).to(torch.float32)


def zs_from_seeds(seeds: Iterable[int], z_dim: int) -> torch.Tensor:
    """[len(seeds), z_dim]: one z_from_seed row per seed, in order."""
    rows = [z_from_seed(seed, z_dim) for seed in seeds]
    if not rows:
        return torch.zeros([0, z_dim])
    return torch.cat(rows)


# ---------------------------------------------------------------------------------------------------------------
# Checks


def constructor_kwargs(cls: type, arguments: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments `cls(...)` was called with, read from its __init__'s locals(): `cls(**result)` rebuilds
    the same network, and a new constructor argument is recorded without a second list to keep in step."""
    names = [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
    return {name: arguments[name] for name in names}


def check_shape(tensor: torch.Tensor, shape: list[int | None], name: str) -> None:
    """NVIDIA's misc.assert_shape habit at block boundaries: a wrong size fails here, naming the tensor, rather
    than as a broadcast error three layers later. None matches any size."""
    if tensor.ndim != len(shape) or any(want is not None and got != want for got, want in zip(tensor.shape, shape)):
        expected = ", ".join("N" if want is None else str(want) for want in shape)
        raise ValueError(f"{name} must be [{expected}], got {list(tensor.shape)}")


# ---------------------------------------------------------------------------------------------------------------
# Precision


class _PrecisionMixin:
    """Run-time choice of the reduced dtype for blocks flagged `use_fp16` (not part of init_kwargs: not weights)."""

    use_fp16: bool = False
    reduced_dtype: torch.dtype | None = torch.bfloat16
    channels_last: bool = False
    reduced_on_cpu: bool = False

    def block_format(self, device: torch.device, force_fp32: bool) -> tuple[torch.dtype, torch.memory_format]:
        reduced = (self.use_fp16 and not force_fp32 and self.reduced_dtype is not None
                   and (device.type == "cuda" or self.reduced_on_cpu))
        if not reduced:
            return torch.float32, torch.contiguous_format
        return self.reduced_dtype, (torch.channels_last if self.channels_last else torch.contiguous_format)


def _set_precision(module: torch.nn.Module, reduced_dtype: torch.dtype | None, channels_last: bool,
                   on_cpu: bool) -> None:
    if reduced_dtype not in (None, torch.bfloat16, torch.float16):
        raise ValueError(f"reduced_dtype must be torch.bfloat16, torch.float16 or None, got {reduced_dtype}")
    for block in module.modules():
        if isinstance(block, _PrecisionMixin):
            block.reduced_dtype = reduced_dtype
            block.channels_last = channels_last
            block.reduced_on_cpu = on_cpu


def _fp16_resolution(img_resolution: int, num_fp16_res: int) -> int:
    """Blocks at this resolution and above use reduced precision; 4x4 never does (NVIDIA's rule)."""
    return max(2 ** (int(math.log2(img_resolution)) + 1 - num_fp16_res), 8)


def _check_resolution(img_resolution: int) -> None:
    if not (isinstance(img_resolution, int) and img_resolution >= 4 and img_resolution & (img_resolution - 1) == 0):
        raise ValueError(f"img_resolution must be a power of two of at least 4, got {img_resolution!r}")


def _channels(res: int, channel_base: int, channel_max: int) -> int:
    return min(channel_base // res, channel_max)


# ---------------------------------------------------------------------------------------------------------------
# Mapping


class MappingNetwork(torch.nn.Module):
    """z (and an embedded label c) -> w, broadcast to num_ws copies; tracks w_avg for truncation."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int | None, num_layers: int = 8,
                 embed_features: int | None = None, layer_features: int | None = None, lr_multiplier: float = 0.01,
                 w_avg_beta: float | None = 0.995):
        super().__init__()
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.num_ws = num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta
        embed_features = 0 if c_dim == 0 else (w_dim if embed_features is None else embed_features)
        layer_features = w_dim if layer_features is None else layer_features
        widths = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = FullyConnectedLayer(c_dim, embed_features)
        for idx in range(num_layers):
            setattr(self, f"fc{idx}", FullyConnectedLayer(widths[idx], widths[idx + 1], activation="lrelu",
                                                          lr_multiplier=lr_multiplier))
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros([w_dim]))

    def forward(self, z: torch.Tensor | None, c: torch.Tensor | None = None, truncation_psi: float | torch.Tensor = 1.0,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must be [N, {self.z_dim}], got {None if z is None else tuple(z.shape)}")
            x = normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                raise ValueError(f"this network is conditional: c must be [N, {self.c_dim}], "
                                 f"got {None if c is None else tuple(c.shape)}")
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)

        if update_emas and self.w_avg_beta is not None:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        if self.num_ws is not None:
            x = x.unsqueeze(1).repeat([1, self.num_ws, 1])
        if isinstance(truncation_psi, torch.Tensor) or truncation_psi != 1:
            x = self._truncate(x, truncation_psi, truncation_cutoff)
        return x

    def _truncate(self, x: torch.Tensor, psi: float | torch.Tensor, cutoff: int | None) -> torch.Tensor:
        """w_avg + psi * (w - w_avg), on the first `cutoff` ws only when a cutoff is given; psi may be per sample."""
        if self.w_avg_beta is None:
            raise ValueError("truncation needs w_avg, which this mapping network does not track")
        if isinstance(psi, torch.Tensor):
            psi = psi.to(x.dtype).reshape([-1] + [1] * (x.ndim - 1)) if psi.ndim == 1 else psi.to(x.dtype)
        if self.num_ws is None or cutoff is None:
            return self.w_avg.lerp(x, psi)
        head = self.w_avg.lerp(x[:, :cutoff], psi)
        return torch.cat([head, x[:, cutoff:]], dim=1)

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"


# ---------------------------------------------------------------------------------------------------------------
# Synthesis


class SynthesisLayer(torch.nn.Module):
    """Modulated 3x3 convolution (optionally upsampling by 2), noise, bias, leaky ReLU, clamp."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, kernel_size: int = 3,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu",
                 resample_filter: tuple[float, ...] = RESAMPLE_FILTER, conv_clamp: float | None = None):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.w_dim = w_dim
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.act_gain = ACTIVATION_GAINS[activation]
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = torch.nn.Parameter(torch.zeros([]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "const", fused_modconv: bool = True,
                gain: float = 1.0) -> torch.Tensor:
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode == "random":
            noise = torch.randn([x.shape[0], 1, self.resolution, self.resolution], device=x.device) \
                * self.noise_strength
        elif self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, fused_modconv=fused_modconv)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, self.bias, act=self.activation, gain=self.act_gain * gain, clamp=clamp)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, w_dim={self.w_dim}, "
                f"resolution={self.resolution}, up={self.up}")


class ToRGBLayer(torch.nn.Module):
    """Modulated (not demodulated) 1x1 convolution to image channels, bias, clamp."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1,
                 conv_clamp: float | None = None):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.w_dim = w_dim
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = torch.nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]))
        self.bias = torch.nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size ** 2)

    def forward(self, x: torch.Tensor, w: torch.Tensor, fused_modconv: bool = True) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain
        x = modulated_conv2d(x, self.weight, styles, demodulate=False, fused_modconv=fused_modconv)
        return bias_act(x, self.bias, clamp=self.conv_clamp)

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, w_dim={self.w_dim}, "
                f"conv_clamp={self.conv_clamp}")


class SynthesisBlock(_PrecisionMixin, torch.nn.Module):
    """One resolution of the skip generator: (const or conv0 up) -> conv1 -> toRGB added to the upsampled image."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 conv_clamp: float | None = None, use_fp16: bool = False,
                 resample_filter: tuple[float, ...] = RESAMPLE_FILTER):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.w_dim = w_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.use_fp16 = use_fp16
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.num_conv = 0
        self.num_torgb = 0
        if in_channels == 0:
            self.const = torch.nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim, resolution, up=2,
                                        resample_filter=resample_filter, conv_clamp=conv_clamp)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim, resolution, conv_clamp=conv_clamp)
        self.num_conv += 1
        self.torgb = ToRGBLayer(out_channels, img_channels, w_dim, conv_clamp=conv_clamp)
        self.num_torgb += 1

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor, noise_mode: str = "const",
                fused_modconv: bool = True, force_fp32: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        dtype, memory_format = self.block_format(ws.device, force_fp32)
        n = ws.shape[0]
        check_shape(ws, [None, self.num_conv + self.num_torgb, self.w_dim], "ws")
        w_iter = iter(ws.unbind(dim=1))
        if self.in_channels == 0:
            x = self.const.to(dtype).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = x.to(memory_format=memory_format)
            x = self.conv1(x, next(w_iter), noise_mode=noise_mode, fused_modconv=fused_modconv)
        else:
            check_shape(x, [n, self.in_channels, self.resolution // 2, self.resolution // 2], "x")
            x = x.to(dtype=dtype, memory_format=memory_format)
            x = self.conv0(x, next(w_iter), noise_mode=noise_mode, fused_modconv=fused_modconv)
            x = self.conv1(x, next(w_iter), noise_mode=noise_mode, fused_modconv=fused_modconv)
        if img is not None:
            check_shape(img, [n, self.img_channels, self.resolution // 2, self.resolution // 2], "img")
            img = upsample2d(img, self.resample_filter)
        # toRGB always modulates its tiny [N, 3, I] weight: a batched matmul that reads x once, at any batch size.
        y = self.torgb(x, next(w_iter), fused_modconv=True)
        y = y.to(dtype=torch.float32, memory_format=torch.contiguous_format)
        img = img + y if img is not None else y
        check_shape(x, [n, self.out_channels, self.resolution, self.resolution], "x")
        return x, img

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, resolution={self.resolution}, "
                f"use_fp16={self.use_fp16}")


class SynthesisNetwork(torch.nn.Module):
    """ws -> image through blocks 4x4 ... img_resolution; can stop early at a lower level of detail."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, conv_clamp: float | None = None):
        _check_resolution(img_resolution)
        super().__init__()
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_resolution_log2 = int(math.log2(img_resolution))
        self.img_channels = img_channels
        self.num_fp16_res = num_fp16_res
        self.block_resolutions = [2 ** i for i in range(2, self.img_resolution_log2 + 1)]
        fp16_resolution = _fp16_resolution(img_resolution, num_fp16_res)
        self.num_ws = 0
        for res in self.block_resolutions:
            in_channels = _channels(res // 2, channel_base, channel_max) if res > 4 else 0
            block = SynthesisBlock(in_channels, _channels(res, channel_base, channel_max), w_dim, res, img_channels,
                                   conv_clamp=conv_clamp, use_fp16=(res >= fp16_resolution))
            self.num_ws += block.num_conv
            if res == img_resolution:
                self.num_ws += block.num_torgb
            setattr(self, f"b{res}", block)

    def forward(self, ws: torch.Tensor, noise_mode: str = "const", max_resolution: int | None = None, *,
                fused_modconv: bool | None = None, force_fp32: bool = False, update_emas: bool = False
                ) -> torch.Tensor:
        """Image [N, C, r, r] float32; r = max_resolution (a power of two <= img_resolution) or img_resolution.

        Stopping at max_resolution returns the skip generator's accumulated RGB at that level: the same tensor the
        full forward computes there, before it is upsampled into the next level. `fused_modconv=None` picks the
        grouped form at batch 1 and the activation-scaled form otherwise. `update_emas` is accepted for NVIDIA
        call compatibility and has no effect here.
        """
        del update_emas
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must be [N, {self.num_ws}, {self.w_dim}], got {tuple(ws.shape)}")
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"noise_mode must be one of {', '.join(NOISE_MODES)}, got {noise_mode!r}")
        stop = self._stop_resolution(max_resolution)
        if fused_modconv is None:
            fused_modconv = ws.shape[0] == 1
        ws = ws.to(torch.float32)
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            block_ws = ws.narrow(1, w_idx, block.num_conv + block.num_torgb)
            x, img = block(x, img, block_ws, noise_mode=noise_mode, fused_modconv=fused_modconv,
                           force_fp32=force_fp32)
            w_idx += block.num_conv
            if res == stop:
                break
        return img

    def _stop_resolution(self, max_resolution: int | None) -> int:
        if max_resolution is None:
            return self.img_resolution
        if max_resolution not in self.block_resolutions:
            raise ValueError(f"max_resolution must be a power of two from 4 to {self.img_resolution}, "
                             f"got {max_resolution!r}")
        return max_resolution

    def extra_repr(self) -> str:
        return (f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}, "
                f"img_channels={self.img_channels}, num_fp16_res={self.num_fp16_res}")


class Generator(torch.nn.Module):
    """StyleGAN2 config F generator: `G(z, c)` = `G.synthesis(G.mapping(z, c))`."""

    def __init__(self, *, z_dim: int = 512, c_dim: int = 0, w_dim: int = 512, img_resolution: int,
                 img_channels: int = 3, mapping_layers: int = 8, channel_base: int = 32768, channel_max: int = 512,
                 num_fp16_res: int = 0, conv_clamp: float | None = None, mapping_lr_multiplier: float = 0.01,
                 w_avg_beta: float = 0.995):
        _check_resolution(img_resolution)
        super().__init__()
        self.init_kwargs: dict[str, Any] = constructor_kwargs(Generator, locals())
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_channels = img_channels
        self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, channel_base=channel_base,
                                          channel_max=channel_max, num_fp16_res=num_fp16_res, conv_clamp=conv_clamp)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim, c_dim, w_dim, num_ws=self.num_ws, num_layers=mapping_layers,
                                      lr_multiplier=mapping_lr_multiplier, w_avg_beta=w_avg_beta)

    @property
    def w_avg(self) -> torch.Tensor:
        """The mapping network's running mean of w [w_dim]: the centre that truncation pulls toward."""
        return self.mapping.w_avg

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float | torch.Tensor = 1.0,
                truncation_cutoff: int | None = None, noise_mode: str = "const", max_resolution: int | None = None,
                *, update_emas: bool = False, fused_modconv: bool | None = None, force_fp32: bool = False
                ) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff,
                          update_emas=update_emas)
        return self.synthesis(ws, noise_mode=noise_mode, max_resolution=max_resolution, fused_modconv=fused_modconv,
                              force_fp32=force_fp32)

    def set_precision(self, reduced_dtype: torch.dtype | None = torch.bfloat16, channels_last: bool = False,
                      on_cpu: bool = False) -> None:
        """Dtype for the num_fp16_res top blocks (None: all float32), their memory layout, and whether CPU uses it."""
        _set_precision(self, reduced_dtype, channels_last, on_cpu)


# ---------------------------------------------------------------------------------------------------------------
# Discriminator


class DiscriminatorBlock(_PrecisionMixin, torch.nn.Module):
    """One resolution of the residual discriminator: (fromRGB) -> conv0 -> conv1 down, plus a 1x1 skip down."""

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, resolution: int, img_channels: int,
                 architecture: str = "resnet", conv_clamp: float | None = None, use_fp16: bool = False,
                 resample_filter: tuple[float, ...] = RESAMPLE_FILTER):
        super().__init__()
        self.in_channels = in_channels
        self.tmp_channels = tmp_channels
        self.out_channels = out_channels
        self.resolution = resolution
        self.img_channels = img_channels
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        if in_channels == 0:
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, 1, activation="lrelu", conv_clamp=conv_clamp)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, 3, activation="lrelu", conv_clamp=conv_clamp)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, 3, activation="lrelu", down=2,
                                 resample_filter=resample_filter, conv_clamp=conv_clamp)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, 1, bias=False, down=2, resample_filter=resample_filter)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor, force_fp32: bool = False) -> torch.Tensor:
        dtype, memory_format = self.block_format(img.device if x is None else x.device, force_fp32)
        if self.in_channels == 0:
            check_shape(img, [None, self.img_channels, self.resolution, self.resolution], "img")
            x = self.fromrgb(img.to(dtype=dtype, memory_format=memory_format))
        else:
            check_shape(x, [None, self.in_channels, self.resolution, self.resolution], "x")
            x = x.to(dtype=dtype, memory_format=memory_format)
        if self.architecture == "resnet":
            y = self.skip(x, gain=math.sqrt(0.5))
            x = self.conv1(self.conv0(x), gain=math.sqrt(0.5))
            x = y + x
        else:
            x = self.conv1(self.conv0(x))
        check_shape(x, [None, self.out_channels, self.resolution // 2, self.resolution // 2], "x")
        return x

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}, architecture={self.architecture}, use_fp16={self.use_fp16}"


class MinibatchStdLayer(torch.nn.Module):
    """Appends the standard deviation across a group of samples as extra feature maps.

    Groups are strided, as in NVIDIA's reshape to [G, N/G, ...]: sample n shares its group with every sample whose
    index is congruent to n modulo N/G. G = min(group_size, N); N must be a multiple of G.
    """

    def __init__(self, group_size: int | None, num_channels: int = 1):
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        g = n if self.group_size is None else min(self.group_size, n)
        if n % g != 0:
            raise ValueError(f"minibatch-stddev groups of {g} do not divide a batch of {n}; "
                             f"use a per-GPU batch that is a multiple of {g}")
        f = self.num_channels
        groups = x.reshape(g, n // g, f, c // f, h, w)
        std = (groups.var(dim=0, correction=0) + 1e-8).sqrt()  # [n/g, F, c/F, H, W]
        std = std.mean(dim=[2, 3, 4]).reshape(n // g, f, 1, 1)
        return torch.cat([x, std.repeat(g, 1, h, w)], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, num_channels={self.num_channels}"


class DiscriminatorEpilogue(torch.nn.Module):
    """4x4 head: minibatch stddev, conv, dense, output (projected onto the mapped label when conditional)."""

    def __init__(self, in_channels: int, cmap_dim: int, resolution: int, img_channels: int,
                 mbstd_group_size: int | None = 4, mbstd_num_channels: int = 1, conv_clamp: float | None = None):
        super().__init__()
        self.in_channels = in_channels
        self.cmap_dim = cmap_dim
        self.resolution = resolution
        self.img_channels = img_channels
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, 3, activation="lrelu",
                                conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation="lrelu")
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: torch.Tensor, cmap: torch.Tensor | None) -> torch.Tensor:
        check_shape(x, [None, self.in_channels, self.resolution, self.resolution], "x")
        if cmap is not None:
            check_shape(cmap, [x.shape[0], self.cmap_dim], "cmap")
        x = x.to(dtype=torch.float32, memory_format=torch.contiguous_format)
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        x = self.out(self.fc(x.flatten(1)))
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / math.sqrt(self.cmap_dim))
        return x

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, cmap_dim={self.cmap_dim}, resolution={self.resolution}, "
                f"img_channels={self.img_channels}")


class Discriminator(torch.nn.Module):
    """StyleGAN2 config F residual discriminator: `D(img, c)` -> logits [N, 1]."""

    def __init__(self, *, c_dim: int = 0, img_resolution: int, img_channels: int = 3, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 0, conv_clamp: float | None = None,
                 mbstd_group_size: int | None = 4, mbstd_num_channels: int = 1, cmap_dim: int | None = None,
                 mapping_layers: int = 8, mapping_lr_multiplier: float = 0.01, architecture: str = "resnet"):
        _check_resolution(img_resolution)
        if img_resolution < 8:
            raise ValueError(f"the discriminator needs img_resolution of at least 8, got {img_resolution}")
        if architecture not in ("resnet", "orig"):
            raise ValueError(f"architecture must be 'resnet' (config F) or 'orig', got {architecture!r}")
        super().__init__()
        self.init_kwargs: dict[str, Any] = constructor_kwargs(Discriminator, locals())
        self.c_dim = c_dim
        self.img_resolution = img_resolution
        self.img_resolution_log2 = int(math.log2(img_resolution))
        self.img_channels = img_channels
        self.block_resolutions = [2 ** i for i in range(self.img_resolution_log2, 2, -1)]
        fp16_resolution = _fp16_resolution(img_resolution, num_fp16_res)
        if cmap_dim is None:
            cmap_dim = _channels(4, channel_base, channel_max)
        if c_dim == 0:
            cmap_dim = 0
        self.cmap_dim = cmap_dim
        for res in self.block_resolutions:
            tmp_channels = _channels(res, channel_base, channel_max)
            block = DiscriminatorBlock(tmp_channels if res < img_resolution else 0, tmp_channels,
                                       _channels(res // 2, channel_base, channel_max), res, img_channels,
                                       architecture=architecture, conv_clamp=conv_clamp,
                                       use_fp16=(res >= fp16_resolution))
            setattr(self, f"b{res}", block)
        if c_dim > 0:
            self.mapping = MappingNetwork(0, c_dim, cmap_dim, num_ws=None, num_layers=mapping_layers,
                                          lr_multiplier=mapping_lr_multiplier, w_avg_beta=None)
        self.b4 = DiscriminatorEpilogue(_channels(4, channel_base, channel_max), cmap_dim, 4, img_channels,
                                        mbstd_group_size=mbstd_group_size, mbstd_num_channels=mbstd_num_channels,
                                        conv_clamp=conv_clamp)

    def forward(self, img: torch.Tensor, c: torch.Tensor | None = None, *, force_fp32: bool = False,
                update_emas: bool = False) -> torch.Tensor:
        del update_emas  # accepted for NVIDIA call compatibility
        expected = (self.img_channels, self.img_resolution, self.img_resolution)
        if img.ndim != 4 or tuple(img.shape[1:]) != expected:
            raise ValueError(f"img must be [N, {', '.join(map(str, expected))}], got {tuple(img.shape)}")
        x = None
        for res in self.block_resolutions:
            x = getattr(self, f"b{res}")(x, img, force_fp32=force_fp32)
        cmap = self.mapping(None, c) if self.c_dim > 0 else None
        return self.b4(x, cmap)

    def set_precision(self, reduced_dtype: torch.dtype | None = torch.bfloat16, channels_last: bool = False,
                      on_cpu: bool = False) -> None:
        """Dtype for the num_fp16_res top blocks (None: all float32), their memory layout, and whether CPU uses it."""
        _set_precision(self, reduced_dtype, channels_last, on_cpu)
