"""NVIDIA StyleGAN2 networks (stylegan2-ada-pytorch `training.networks`, stylegan3 `training.networks_stylegan2`),
read by `safe_unpickle` as records, turned into our networks' constructor arguments and state dicts.

Parameter names are identical to ours (`docs/weights-naming.md`), so the work is the configuration. Each setting
is read from what the pickled object actually is (attributes its constructor stored, such as a layer's
`conv_clamp` or a block's `use_fp16`), then from the arguments it was built with (`_init_kwargs`), then from the
defaults of the module the source text identifies: the two repositories differ there (stylegan3 defaults to
`num_fp16_res=4, conv_clamp=256, w_avg_beta=0.998`). Arguments we cannot represent (another architecture,
activation or filter, no noise, a label embedding of another width) are refused by name, and the weights must
then fit our network exactly.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from training.errors import DataError, name_some
from training.importers.import_common import channel_params, fit_network
from training.importers.safe_unpickle import PersistentRecord

REPOSITORIES = {
    "training.networks": "NVlabs/stylegan2-ada-pytorch",
    "training.networks_stylegan2": "NVlabs/stylegan3",
    "training.networks_stylegan3": "NVlabs/stylegan3",
}
MODULE_DEFAULTS = {
    "training.networks": {"G": dict(num_fp16_res=0, conv_clamp=None, w_avg_beta=0.995),
                          "D": dict(num_fp16_res=0, conv_clamp=None)},
    "training.networks_stylegan2": {"G": dict(num_fp16_res=4, conv_clamp=256, w_avg_beta=0.998),
                                    "D": dict(num_fp16_res=4, conv_clamp=256)},
}
STYLEGAN2_CLASSES = {
    "G": {"Generator", "MappingNetwork", "SynthesisNetwork", "SynthesisBlock", "SynthesisLayer", "ToRGBLayer",
          "FullyConnectedLayer", "Conv2dLayer"},
    "D": {"Discriminator", "DiscriminatorBlock", "DiscriminatorEpilogue", "MinibatchStdLayer", "MappingNetwork",
          "FullyConnectedLayer", "Conv2dLayer"},
}
G_TOP_ARGS = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels", "mapping_kwargs", "synthesis_kwargs")
D_TOP_ARGS = ("c_dim", "img_resolution", "img_channels", "architecture", "channel_base", "channel_max",
              "num_fp16_res", "conv_clamp", "cmap_dim", "block_kwargs", "mapping_kwargs", "epilogue_kwargs")
# Arguments that change memory layout, trainability or speed only.
IGNORED_ARGS = {"fp16_channels_last", "channels_last", "fused_modconv_default", "freeze_layers"}
FIR = [1, 3, 3, 1]
_MISSING = object()


def is_stylegan3(record: PersistentRecord) -> bool:
    """StyleGAN3 generators: their module's markers, or a SynthesisInput anywhere in the tree."""
    return any(r.module == "training.networks_stylegan3" or r.class_name == "SynthesisInput"
               for _, r in record.walk())


def source_module(record: PersistentRecord) -> str | None:
    return record.module if record.module in MODULE_DEFAULTS else None


# ---------------------------------------------------------------------------------------------------------------
# Generator


def generator_kwargs(record: PersistentRecord, source: str) -> dict[str, Any]:
    """Our Generator's constructor arguments for an NVIDIA StyleGAN2 generator record."""
    _check_classes(record, "G", source)
    args = _bind(record, G_TOP_ARGS)
    mapping_args = dict(args.get("mapping_kwargs") or {})
    synth_args = dict(args.get("synthesis_kwargs") or {})
    synth_args.update({k: v for k, v in args.items() if k not in G_TOP_ARGS})  # stylegan3 passes them flat
    defaults = MODULE_DEFAULTS.get(source_module(record) or "", {}).get("G", {})
    mapping = record.sub("mapping")
    synthesis = record.sub("synthesis")
    if mapping is None or synthesis is None:
        raise DataError(f"{source} has no mapping or synthesis network: not a StyleGAN2 generator")
    pick = _Picker(source, synth_args, defaults)

    kw: dict[str, Any] = {}
    for name in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"):
        kw[name] = _Picker(source, args, {}).get(name, record.attrs.get(name, _MISSING))
    res = kw["img_resolution"]
    if not (isinstance(res, int) and res >= 4 and res & (res - 1) == 0):
        raise DataError(f"{source} has img_resolution {res!r}; our networks need a power of two of at least 4")
    blocks = [synthesis.sub(f"b{2 ** i}") for i in range(2, int(math.log2(res)) + 1)]
    if any(b is None for b in blocks):
        raise DataError(f"{source} lacks a synthesis block for one of the resolutions 4..{res}")

    mpick = _Picker(source, mapping_args, defaults)
    kw["mapping_layers"] = mpick.get("num_layers", mapping.attrs.get("num_layers", _MISSING), 8)
    fc0 = mapping.sub("fc0")
    kw["mapping_lr_multiplier"] = mpick.get("lr_multiplier", fc0.attrs.get("bias_gain", _MISSING) if fc0 else
                                            _MISSING, 0.01)
    kw["w_avg_beta"] = mpick.get("w_avg_beta", mapping.attrs.get("w_avg_beta", _MISSING))
    _require(source, "mapping activation", mpick.get("activation", fc0.attrs.get("activation", _MISSING) if fc0
                                                     else _MISSING, "lrelu"), "lrelu")
    for name in ("embed_features", "layer_features"):
        value = mapping_args.get(name)
        if value is not None and value != kw["w_dim"]:
            raise DataError(f"{source} has mapping {name}={value} (not w_dim={kw['w_dim']}); our mapping network "
                            "cannot represent it")
    _no_unknown(source, "mapping_kwargs", mapping_args, {"num_layers", "lr_multiplier", "w_avg_beta",
                                                         "activation", "embed_features", "layer_features"})

    declared = (synth_args.get("channel_base", 32768), synth_args.get("channel_max", 512))
    kw["channel_base"], kw["channel_max"] = _channels(source, blocks, declared)
    first_layer = blocks[0].sub("conv1")
    kw["conv_clamp"] = pick.get("conv_clamp", first_layer.attrs.get("conv_clamp", _MISSING) if first_layer
                                else _MISSING)
    kw["num_fp16_res"] = _fp16(source, blocks, pick.maybe("num_fp16_res", synthesis.attrs.get("num_fp16_res",
                                                                                               _MISSING)), res)
    _require(source, "architecture", pick.get("architecture", blocks[-1].attrs.get("architecture", _MISSING),
                                              "skip"), "skip")
    _require(source, "layer activation", pick.get("activation", first_layer.attrs.get("activation", _MISSING)
                                                  if first_layer else _MISSING, "lrelu"), "lrelu")
    _require(source, "use_noise", pick.get("use_noise", first_layer.attrs.get("use_noise", _MISSING)
                                           if first_layer else _MISSING, True), True)
    _require(source, "kernel_size", synth_args.get("kernel_size", 3), 3)
    _require_fir(source, synth_args.get("resample_filter", FIR), blocks)
    _no_unknown(source, "synthesis arguments", synth_args,
                {"channel_base", "channel_max", "num_fp16_res", "conv_clamp", "architecture", "resample_filter",
                 "use_noise", "activation", "kernel_size"})
    return kw


def generator_state(record: PersistentRecord) -> dict[str, torch.Tensor]:
    return record.state_dict()


# ---------------------------------------------------------------------------------------------------------------
# Discriminator


def discriminator_kwargs(record: PersistentRecord, source: str) -> dict[str, Any]:
    """Our Discriminator's constructor arguments for an NVIDIA StyleGAN2 discriminator record."""
    _check_classes(record, "D", source)
    args = _bind(record, D_TOP_ARGS)
    _no_unknown(source, "arguments", args, set(D_TOP_ARGS))
    block_args = dict(args.get("block_kwargs") or {})
    mapping_args = dict(args.get("mapping_kwargs") or {})
    epilogue_args = dict(args.get("epilogue_kwargs") or {})
    defaults = MODULE_DEFAULTS.get(source_module(record) or "", {}).get("D", {})
    pick = _Picker(source, args, defaults)

    kw: dict[str, Any] = {}
    for name in ("c_dim", "img_resolution", "img_channels"):
        kw[name] = pick.get(name, record.attrs.get(name, _MISSING))
    res = kw["img_resolution"]
    if not (isinstance(res, int) and res >= 8 and res & (res - 1) == 0):
        raise DataError(f"{source} has img_resolution {res!r}; our discriminator needs a power of two of at least 8")
    blocks = [record.sub(f"b{2 ** i}") for i in range(int(math.log2(res)), 2, -1)]
    epilogue = record.sub("b4")
    if any(b is None for b in blocks) or epilogue is None:
        raise DataError(f"{source} lacks a discriminator block for one of the resolutions {res}..4")
    top = blocks[0]
    kw["architecture"] = pick.get("architecture", top.attrs.get("architecture", _MISSING), "resnet")
    if kw["architecture"] not in ("resnet", "orig"):
        raise DataError(f"{source} uses the {kw['architecture']!r} discriminator architecture; likeness supports "
                        "'resnet' (config F) and 'orig'")
    declared = (args.get("channel_base", 32768), args.get("channel_max", 512))
    table = {b.attrs.get("resolution", 2 ** (int(math.log2(res)) - i)): _out_channels(b, "conv0")
             for i, b in enumerate(blocks)}
    table[4] = _out_channels(epilogue, "conv")
    params = channel_params(table, declared)
    if params is None:
        raise DataError(f"{source} has channels {_table_text(table)} per resolution, a layout our networks "
                        "cannot represent")
    kw["channel_base"], kw["channel_max"] = params
    conv0 = top.sub("conv0")
    kw["conv_clamp"] = pick.get("conv_clamp", conv0.attrs.get("conv_clamp", _MISSING) if conv0 else _MISSING)
    kw["num_fp16_res"] = _fp16(source, blocks, pick.maybe("num_fp16_res"), res)
    cmap = epilogue.attrs.get("cmap_dim", args.get("cmap_dim"))
    kw["cmap_dim"] = cmap if kw["c_dim"] > 0 and cmap != table[4] else None  # None: the default, channels at 4x4
    mbstd = epilogue.sub("mbstd")
    epick = _Picker(source, epilogue_args, {})
    if "mbstd" in epilogue.submodules and mbstd is None:
        kw["mbstd_group_size"], kw["mbstd_num_channels"] = 4, 0
    else:
        kw["mbstd_group_size"] = epick.get("mbstd_group_size", mbstd.attrs.get("group_size", _MISSING)
                                           if mbstd else _MISSING, 4)
        kw["mbstd_num_channels"] = epick.get("mbstd_num_channels", mbstd.attrs.get("num_channels", _MISSING)
                                             if mbstd else _MISSING, 1)
    mapping = record.sub("mapping")
    mpick = _Picker(source, mapping_args, {})
    kw["mapping_layers"] = mpick.get("num_layers", mapping.attrs.get("num_layers", _MISSING) if mapping
                                     else _MISSING, 8)
    fc0 = mapping.sub("fc0") if mapping else None
    kw["mapping_lr_multiplier"] = mpick.get("lr_multiplier", fc0.attrs.get("bias_gain", _MISSING) if fc0
                                            else _MISSING, 0.01)
    for name, value in (("embed_features", mapping_args.get("embed_features")),
                        ("layer_features", mapping_args.get("layer_features"))):
        if kw["c_dim"] > 0 and value is not None and value != (cmap or table[4]):
            raise DataError(f"{source} has label mapping {name}={value}; our discriminator cannot represent it")
    for what, given in (("block", block_args), ("epilogue", epilogue_args), ("label mapping", mapping_args)):
        _require(source, f"{what} activation", given.get("activation", "lrelu"), "lrelu")
    _require(source, "block activation", conv0.attrs.get("activation", "lrelu") if conv0 else "lrelu", "lrelu")
    _require_fir(source, block_args.get("resample_filter", FIR), blocks)
    _no_unknown(source, "block_kwargs", block_args, {"activation", "resample_filter"})
    _no_unknown(source, "mapping_kwargs", mapping_args, {"num_layers", "lr_multiplier", "activation",
                                                         "embed_features", "layer_features"})
    _no_unknown(source, "epilogue_kwargs", epilogue_args, {"mbstd_group_size", "mbstd_num_channels", "activation"})
    return kw


# ---------------------------------------------------------------------------------------------------------------
# A whole record -> our network


def import_record(kind: str, record: PersistentRecord, source: str) -> tuple[dict[str, Any], torch.nn.Module]:
    """(our constructor arguments, our network holding the record's weights) for a 'G' or 'D' record."""
    expected = "Generator" if kind == "G" else "Discriminator"
    if kind == "G" and is_stylegan3(record):
        raise DataError(f"{source} is a StyleGAN3 generator (NVIDIA's networks_stylegan3, alias-free config T/R); "
                        "likeness supports StyleGAN2 (config F) only for now")
    if record.class_name != expected:
        raise DataError(f"{source} is a `{record.class_name}`, not NVIDIA's StyleGAN2 {expected}")
    kwargs = generator_kwargs(record, source) if kind == "G" else discriminator_kwargs(record, source)
    net = fit_network(kind, kwargs, record.state_dict(), source)
    return net.init_kwargs, net


# ---------------------------------------------------------------------------------------------------------------
# Helpers


class _Picker:
    """A setting: the object's own attribute if it has one, else the argument it was built with, else a default."""

    def __init__(self, source: str, declared: dict[str, Any], defaults: dict[str, Any]):
        self.source = source
        self.declared = declared
        self.defaults = defaults

    def get(self, name: str, actual: Any = _MISSING, default: Any = _MISSING) -> Any:
        if actual is not _MISSING:
            return actual
        if name in self.declared:
            return self.declared[name]
        if name in self.defaults:
            return self.defaults[name]
        if default is not _MISSING:
            return default
        raise DataError(f"{self.source} does not record its {name} and its source module is not one likeness "
                        "recognises (stylegan2-ada-pytorch training.networks, stylegan3 training.networks_stylegan2)")

    def maybe(self, name: str, actual: Any = _MISSING) -> Any:
        """Like get, but None where nothing says."""
        return self.get(name, actual, None)


def _bind(record: PersistentRecord, names: tuple[str, ...]) -> dict[str, Any]:
    """Positional init arguments named after NVIDIA's signature, merged with the keyword ones."""
    args = dict(zip(names, record.init_args))
    if len(record.init_args) > len(names):
        raise DataError(f"{record.class_name} was built with {len(record.init_args)} positional arguments; "
                        "NVIDIA's takes at most {len(names)}")
    args.update(record.init_kwargs)
    return args


def _check_classes(record: PersistentRecord, kind: str, source: str) -> None:
    for name, sub in record.walk():
        if sub.class_name not in STYLEGAN2_CLASSES[kind]:
            raise DataError(f"{source} contains a `{sub.class_name}` module ({name or 'top'}), which is not part of "
                            "NVIDIA's StyleGAN2 networks; likeness cannot import this variant")


def _require(source: str, what: str, value: Any, wanted: Any) -> None:
    if value != wanted:
        raise DataError(f"{source} uses {what} {value!r}; likeness supports {wanted!r} only (StyleGAN2 config F)")


def _require_fir(source: str, declared: Any, blocks: list[PersistentRecord]) -> None:
    if [float(v) for v in (declared or [])] != [float(v) for v in FIR]:
        raise DataError(f"{source} uses the resampling filter {declared!r}; likeness supports [1, 3, 3, 1] only")
    from training.resample import setup_filter

    want = setup_filter(FIR)
    for block in blocks:
        buf = block.buffers.get("resample_filter")
        if buf is not None and (buf.shape != want.shape or not torch.allclose(buf.float(), want, atol=1e-6)):
            raise DataError(f"{source} stores a resampling filter other than [1, 3, 3, 1]; likeness cannot use it")


def _no_unknown(source: str, what: str, given: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(k for k in given if k not in known and k not in IGNORED_ARGS)
    if unknown:
        raise DataError(f"{source} was built with {what} likeness does not know ({name_some(unknown)}); this "
                        "variant of StyleGAN2 cannot be imported")


def _out_channels(record: PersistentRecord, layer: str) -> int:
    sub = record.sub(layer)
    weight = sub.params.get("weight") if sub else None
    if weight is None or weight.ndim != 4:
        raise DataError(f"a `{record.class_name}` in the pickle has no {layer} weight")
    return int(weight.shape[0])


def _channels(source: str, blocks: list[PersistentRecord], declared: tuple[int, int]) -> tuple[int, int]:
    table = {}
    for block in blocks:
        layer = block.sub("conv1")
        weight = layer.params.get("weight") if layer else None
        if weight is None or weight.ndim != 4:
            raise DataError(f"{source}: a synthesis block has no conv1 weight")
        table[int(block.attrs.get("resolution", 4 * 2 ** len(table)))] = int(weight.shape[0])
    params = channel_params(table, declared)
    if params is None:
        raise DataError(f"{source} has channels {_table_text(table)} per resolution, a layout our networks cannot "
                        "represent")
    return params


def _fp16(source: str, blocks: list[PersistentRecord], declared: Any, img_resolution: int) -> int:
    """num_fp16_res: the declared value if it gives the blocks' own use_fp16 flags, else the count of those flags."""
    flags = [b.attrs.get("use_fp16") for b in blocks]
    if any(f is None for f in flags):
        if declared is None:
            raise DataError(f"{source} records neither num_fp16_res nor its blocks' use_fp16")
        return int(declared)
    resolutions = [int(b.attrs.get("resolution", 0)) for b in blocks]

    def pattern(n: int) -> list[bool]:
        threshold = max(2 ** (int(math.log2(img_resolution)) + 1 - n), 8)
        return [r >= threshold for r in resolutions]

    if declared is not None and pattern(int(declared)) == [bool(f) for f in flags]:
        return int(declared)
    count = sum(bool(f) for f in flags)
    if pattern(count) != [bool(f) for f in flags]:
        raise DataError(f"{source} runs reduced precision in blocks {resolutions} as {flags}, a pattern our networks "
                        "cannot represent")
    return count


def _table_text(table: dict[int, int]) -> str:
    return ", ".join(f"{res}: {ch}" for res, ch in sorted(table.items()))
