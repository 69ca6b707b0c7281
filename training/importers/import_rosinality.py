"""rosinality/stylegan2-pytorch checkpoints (`g`, `d`, `g_ema`, `latent_avg`, `args`) onto our networks.

rosinality's model is StyleGAN2 config F with the same equalised-lr storage as NVIDIA's; only names and a few
shapes differ (`docs/weights-naming.md` has the table this module implements). The configuration is read from the
tensors themselves (resolution from the number of toRGB layers, mapping depth from the `style.N` layers, channels
per resolution from the weights), so checkpoints of other channel multipliers import whenever our channel rule
`min(channel_base // res, channel_max)` can express their table, and are refused otherwise. A trained checkpoint
has no `latent_avg`; w_avg is then estimated as the mean of the mapping network over many z, as rosinality's
`mean_latent` does.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from training.errors import DataError
from training.importers.import_common import channel_params, fit_network

W_AVG_SAMPLES = 16384
W_AVG_SEED = 0
FIR = torch.tensor([1.0, 3.0, 3.0, 1.0])


def is_rosinality(data: Any) -> bool:
    return isinstance(data, dict) and any(isinstance(data.get(k), dict) for k in ("g_ema", "g"))


# ---------------------------------------------------------------------------------------------------------------
# Generator


def generator_kwargs(sd: dict[str, torch.Tensor], args: Any, source: str) -> dict[str, Any]:
    """Our Generator's constructor arguments, inferred from the shapes of a rosinality generator's tensors."""
    n_mlp = _count(sd, "style.{}.weight", start=1)
    n_rgbs = _count(sd, "to_rgbs.{}.conv.weight")
    if n_mlp == 0 or "input.input" not in sd or "to_rgb1.conv.weight" not in sd:
        raise DataError(f"{source} is not a rosinality StyleGAN2 generator (no style.N, input.input or to_rgb1)")
    style_dim = int(sd["style.1.weight"].shape[1])
    size = 2 ** (n_rgbs + 2)
    table = {4: int(sd["input.input"].shape[1])}
    for k in range(n_rgbs):
        table[2 ** (k + 3)] = int(_get(sd, f"convs.{2 * k}.conv.weight", source).shape[1])
    params = channel_params(table, _declared(args))
    if params is None:
        raise DataError(f"{source} has channels {_table_text(table)} per resolution, a layout our networks cannot "
                        "represent (rosinality's channel_multiplier 1 and 2 are supported)")
    return dict(z_dim=style_dim, c_dim=0, w_dim=int(sd[f"style.{n_mlp}.weight"].shape[0]), img_resolution=size,
                img_channels=int(sd["to_rgb1.conv.weight"].shape[1]), mapping_layers=n_mlp,
                channel_base=params[0], channel_max=params[1], num_fp16_res=0, conv_clamp=None,
                mapping_lr_multiplier=float(getattr(args, "lr_mlp", 0.01) or 0.01), w_avg_beta=0.995)


def generator_state(sd: dict[str, torch.Tensor], kwargs: dict[str, Any], source: str) -> dict[str, torch.Tensor]:
    """rosinality names -> ours; every rosinality tensor must be used, its blur kernels must be [1,3,3,1]."""
    used: set[str] = set()

    def take(name: str) -> torch.Tensor:
        used.add(name)
        return _get(sd, name, source)

    out: dict[str, torch.Tensor] = {}
    for i in range(kwargs["mapping_layers"]):
        out[f"mapping.fc{i}.weight"] = take(f"style.{i + 1}.weight")
        out[f"mapping.fc{i}.bias"] = take(f"style.{i + 1}.bias")

    def styled(ours: str, theirs: str, noise: str) -> None:
        out[f"{ours}.weight"] = _squeeze0(take(f"{theirs}.conv.weight"), 5, source, theirs)
        out[f"{ours}.affine.weight"] = take(f"{theirs}.conv.modulation.weight")
        out[f"{ours}.affine.bias"] = take(f"{theirs}.conv.modulation.bias")
        out[f"{ours}.noise_strength"] = take(f"{theirs}.noise.weight").reshape([])
        out[f"{ours}.bias"] = take(f"{theirs}.activate.bias")
        out[f"{ours}.noise_const"] = take(f"noises.{noise}").reshape(take(f"noises.{noise}").shape[-2:])

    def torgb(ours: str, theirs: str) -> None:
        out[f"{ours}.weight"] = _squeeze0(take(f"{theirs}.conv.weight"), 5, source, theirs)
        out[f"{ours}.affine.weight"] = take(f"{theirs}.conv.modulation.weight")
        out[f"{ours}.affine.bias"] = take(f"{theirs}.conv.modulation.bias")
        out[f"{ours}.bias"] = take(f"{theirs}.bias").reshape(-1)

    out["synthesis.b4.const"] = _squeeze0(take("input.input"), 4, source, "input.input")
    styled("synthesis.b4.conv1", "conv1", "noise_0")
    torgb("synthesis.b4.torgb", "to_rgb1")
    for k in range(int(math.log2(kwargs["img_resolution"])) - 2):
        res = 2 ** (k + 3)
        styled(f"synthesis.b{res}.conv0", f"convs.{2 * k}", f"noise_{2 * k + 1}")
        styled(f"synthesis.b{res}.conv1", f"convs.{2 * k + 1}", f"noise_{2 * k + 2}")
        torgb(f"synthesis.b{res}.torgb", f"to_rgbs.{k}")
        _check_kernel(take(f"convs.{2 * k}.conv.blur.kernel"), 4.0, source, f"convs.{2 * k}.conv.blur.kernel")
        _check_kernel(take(f"to_rgbs.{k}.upsample.kernel"), 4.0, source, f"to_rgbs.{k}.upsample.kernel")
    _all_used(sd, used, source)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Discriminator


def discriminator_kwargs(sd: dict[str, torch.Tensor], args: Any, source: str) -> dict[str, Any]:
    n_blocks = _count(sd, "convs.{}.conv1.0.weight", start=1)
    if "convs.0.0.weight" not in sd or "final_conv.0.weight" not in sd or n_blocks == 0:
        raise DataError(f"{source} is not a rosinality StyleGAN2 discriminator (no convs.0, convs.N.conv1 or "
                        "final_conv)")
    size = 2 ** (n_blocks + 2)
    table = {size: int(sd["convs.0.0.weight"].shape[0]), 4: int(sd["final_conv.0.weight"].shape[0])}
    for k in range(1, n_blocks + 1):
        table[size // 2 ** (k - 1)] = int(_get(sd, f"convs.{k}.conv1.0.weight", source).shape[0])
    params = channel_params(table, _declared(args))
    if params is None:
        raise DataError(f"{source} has channels {_table_text(table)} per resolution, a layout our networks cannot "
                        "represent (rosinality's channel_multiplier 1 and 2 are supported)")
    return dict(c_dim=0, img_resolution=size, img_channels=int(sd["convs.0.0.weight"].shape[1]),
                channel_base=params[0], channel_max=params[1], num_fp16_res=0, conv_clamp=None,
                mbstd_group_size=4, mbstd_num_channels=1, architecture="resnet")


def discriminator_state(sd: dict[str, torch.Tensor], kwargs: dict[str, Any], source: str
                        ) -> dict[str, torch.Tensor]:
    used: set[str] = set()

    def take(name: str) -> torch.Tensor:
        used.add(name)
        return _get(sd, name, source)

    size = kwargs["img_resolution"]
    out = {f"b{size}.fromrgb.weight": take("convs.0.0.weight"), f"b{size}.fromrgb.bias": take("convs.0.1.bias")}
    for k in range(1, int(math.log2(size)) - 1):
        res = size // 2 ** (k - 1)
        out[f"b{res}.conv0.weight"] = take(f"convs.{k}.conv1.0.weight")
        out[f"b{res}.conv0.bias"] = take(f"convs.{k}.conv1.1.bias")
        out[f"b{res}.conv1.weight"] = take(f"convs.{k}.conv2.1.weight")
        out[f"b{res}.conv1.bias"] = take(f"convs.{k}.conv2.2.bias")
        out[f"b{res}.skip.weight"] = take(f"convs.{k}.skip.1.weight")
        _check_kernel(take(f"convs.{k}.conv2.0.kernel"), 1.0, source, f"convs.{k}.conv2.0.kernel")
        _check_kernel(take(f"convs.{k}.skip.0.kernel"), 1.0, source, f"convs.{k}.skip.0.kernel")
    out["b4.conv.weight"] = take("final_conv.0.weight")
    out["b4.conv.bias"] = take("final_conv.1.bias")
    for i, name in enumerate(("fc", "out")):
        out[f"b4.{name}.weight"] = take(f"final_linear.{i}.weight")
        out[f"b4.{name}.bias"] = take(f"final_linear.{i}.bias")
    _all_used(sd, used, source)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Whole networks


def import_generator(sd: Any, args: Any, latent_avg: Any, source: str) -> tuple[dict[str, Any], torch.nn.Module, str]:
    """(our kwargs, our G with the weights, how w_avg was obtained)."""
    sd = _state(sd, source)
    kwargs = generator_kwargs(sd, args, source)
    state = generator_state(sd, kwargs, source)
    from training.networks import Generator

    template = Generator(**kwargs).state_dict()
    for key, value in template.items():
        if key.endswith("resample_filter"):
            state[key] = value  # filter buffers are rebuilt, not read (checked to be [1,3,3,1] above)
    w_avg = None
    if isinstance(latent_avg, torch.Tensor) and latent_avg.numel() == kwargs["w_dim"]:
        w_avg = latent_avg.reshape(-1).float()
    state["mapping.w_avg"] = w_avg if w_avg is not None else torch.zeros(kwargs["w_dim"])
    net = fit_network("G", kwargs, state, source)
    if w_avg is not None:
        return net.init_kwargs, net, "latent_avg"
    with torch.no_grad():
        net.mapping.w_avg.copy_(estimate_w_avg(net))
    return net.init_kwargs, net, (f"estimated as the mean w of {W_AVG_SAMPLES} z drawn with torch seed "
                                  f"{W_AVG_SEED} (the file has no latent_avg)")


def import_discriminator(sd: Any, args: Any, source: str) -> tuple[dict[str, Any], torch.nn.Module]:
    sd = _state(sd, source)
    kwargs = discriminator_kwargs(sd, args, source)
    state = discriminator_state(sd, kwargs, source)
    from training.networks import Discriminator

    for key, value in Discriminator(**kwargs).state_dict().items():
        if key.endswith("resample_filter"):
            state[key] = value
    net = fit_network("D", kwargs, state, source)
    return net.init_kwargs, net


@torch.no_grad()
def estimate_w_avg(G: torch.nn.Module, samples: int = W_AVG_SAMPLES, seed: int = W_AVG_SEED) -> torch.Tensor:
    """Mean of w over `samples` z from a fixed seed: the centre truncation pulls toward, when none was stored."""
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros(G.w_dim, dtype=torch.float64)
    done = 0
    while done < samples:
        n = min(4096, samples - done)
        z = torch.randn([n, G.z_dim], generator=gen)
        total += G.mapping(z.to(G.mapping.w_avg.device), None)[:, 0].double().sum(dim=0).cpu()
        done += n
    return (total / samples).float()


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def _state(sd: Any, source: str) -> dict[str, torch.Tensor]:
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise DataError(f"{source} is not a state dict of tensors")
    return {str(k): v for k, v in sd.items()}


def _declared(args: Any) -> tuple[int | None, int | None]:
    multiplier = getattr(args, "channel_multiplier", None)
    return (16384 * multiplier, 512) if isinstance(multiplier, int) else (None, None)


def _count(sd: dict[str, torch.Tensor], pattern: str, start: int = 0) -> int:
    n = 0
    while pattern.format(start + n) in sd:
        n += 1
    return n


def _get(sd: dict[str, torch.Tensor], name: str, source: str) -> torch.Tensor:
    if name not in sd:
        raise DataError(f"{source} lacks {name}: not a rosinality StyleGAN2 network of the layout its other "
                        "tensors imply")
    return sd[name]


def _squeeze0(t: torch.Tensor, ndim: int, source: str, name: str) -> torch.Tensor:
    if t.ndim != ndim or t.shape[0] != 1:
        raise DataError(f"{source}: {name} has shape {tuple(t.shape)}, not rosinality's [1, ...] layout")
    return t[0]


def _check_kernel(kernel: torch.Tensor, gain: float, source: str, name: str) -> None:
    want = torch.outer(FIR, FIR) / FIR.sum() ** 2 * gain
    if kernel.shape != want.shape or not torch.allclose(kernel.float(), want, atol=1e-6):
        raise DataError(f"{source}: {name} is not the [1, 3, 3, 1] blur kernel; likeness cannot use another filter")


def _all_used(sd: dict[str, torch.Tensor], used: set[str], source: str) -> None:
    extra = sorted(k for k in sd if k not in used)
    if extra:
        raise DataError(f"{source} has tensors a rosinality StyleGAN2 network does not ({', '.join(extra[:3])}); "
                        "SWAGAN and other variants are not supported")


def _table_text(table: dict[int, int]) -> str:
    return ", ".join(f"{res}: {ch}" for res, ch in sorted(table.items()))
