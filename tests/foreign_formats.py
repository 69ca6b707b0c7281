"""Files in NVIDIA's and rosinality's formats, built by the tests from our own networks.

NVIDIA's code is not ours to ship, so its pickles are reproduced structurally: every network object is pickled as
a call to `torch_utils.persistence._reconstruct_persistent_obj(meta)` with NVIDIA's `meta` layout (type, version,
module_src, class_name, state = the module's __dict__ with `_init_args`/`_init_kwargs`), tensors and parameters go
through torch's own pickling, init arguments are `dnnlib.util.EasyDict`s, gains are numpy floats. The functions and
classes the pickle names exist only while pickling (stand-ins registered under NVIDIA's module names). Our networks
use NVIDIA's parameter names, so their weights are laid out exactly where NVIDIA's would be.

rosinality checkpoints are written as its train.py writes them (`torch.save` of g, d, g_ema, optimiser states and
an argparse.Namespace) with the names and shapes of its model.py, mapped from our networks by the table below
(written here independently of the importer).
"""

from __future__ import annotations

import argparse
import contextlib
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import torch

# Stand-ins for the module texts; each carries the marker the real module's source contains.
ADA_SRC = ('"""stand-in for stylegan2-ada-pytorch training/networks.py"""\nclass SynthesisBlock: ...\n'
           "# MappingNetwork.forward(self, z, c, truncation_psi=1, truncation_cutoff=None, skip_w_avg_update=False)\n")
SG3_SG2_SRC = ('"""stand-in for stylegan3 training/networks_stylegan2.py"""\nclass SynthesisBlock: ...\n'
               "# SynthesisBlock(..., fused_modconv_default=True, ...)\n")
SG3_SRC = '"""stand-in for stylegan3 training/networks_stylegan3.py"""\nclass SynthesisInput: ...\n'
UNKNOWN_SRC = '"""a fork whose text carries none of the markers"""\nclass SynthesisBlock: ...\n'


def _reconstruct_persistent_obj(meta):  # never called: only its name goes into the pickle
    raise AssertionError("the stand-in reconstructor must not be called")


class EasyDict(dict):
    """Pickles as `dnnlib.util.EasyDict`, like NVIDIA's."""


class Persistent:
    """Pickles as NVIDIA's persistence does: `_reconstruct_persistent_obj(meta)`."""

    def __init__(self, meta: dict):
        self.meta = meta

    def __reduce__(self):
        return (_reconstruct_persistent_obj, (self.meta,))


class Raw:
    """Pickles as an arbitrary call `func(*args)`: for tampered or malicious files."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@contextlib.contextmanager
def nvidia_names():
    """Make `torch_utils.persistence._reconstruct_persistent_obj` and `dnnlib.util.EasyDict` picklable by name."""
    saved = {name: sys.modules.get(name) for name in ("torch_utils", "torch_utils.persistence", "dnnlib",
                                                      "dnnlib.util")}
    persistence = types.ModuleType("torch_utils.persistence")
    util = types.ModuleType("dnnlib.util")
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    EasyDict.__module__ = "dnnlib.util"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    util.EasyDict = EasyDict
    sys.modules.update({"torch_utils": types.ModuleType("torch_utils"), "torch_utils.persistence": persistence,
                        "dnnlib": types.ModuleType("dnnlib"), "dnnlib.util": util})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


GAIN_ATTRS = ("act_gain", "weight_gain")  # NVIDIA computes these with numpy: they pickle as numpy floats


def persistent(module: torch.nn.Module, src: str, init_kwargs: dict | None = None, strip: tuple[str, ...] = (),
               class_names: dict[str, str] | None = None, path: str = "") -> Persistent:
    """NVIDIA's pickled form of `module` and, recursively, its submodules."""
    state = {}
    for key, value in module.__dict__.items():
        if key in ("init_kwargs",) or key in strip:
            continue
        if key == "_modules":
            value = OrderedDict((name, None if child is None else
                                 persistent(child, src, None, strip, class_names, f"{path}.{name}".strip(".")))
                                for name, child in value.items())
        elif key in GAIN_ATTRS and isinstance(value, float):
            value = np.float64(value)
        elif isinstance(value, dict):
            value = type(value)(value)  # a copy: tests tamper with the pickled form, never with the network
        state[key] = value
    state["_init_args"] = ()
    state["_init_kwargs"] = init_kwargs or {}
    name = (class_names or {}).get(path, type(module).__name__)
    return Persistent(dict(type="class", version=6, module_src=src, class_name=name, state=state))


def ada_g_kwargs(G) -> EasyDict:
    """What stylegan2-ada-pytorch's train.py passes to its Generator (nested kwargs)."""
    k = G.init_kwargs
    return EasyDict(z_dim=k["z_dim"], c_dim=k["c_dim"], w_dim=k["w_dim"], img_resolution=k["img_resolution"],
                    img_channels=k["img_channels"], mapping_kwargs=EasyDict(num_layers=k["mapping_layers"]),
                    synthesis_kwargs=EasyDict(channel_base=k["channel_base"], channel_max=k["channel_max"],
                                              num_fp16_res=k["num_fp16_res"], conv_clamp=k["conv_clamp"]))


def sg3_g_kwargs(G) -> EasyDict:
    """What stylegan3's train.py passes for --cfg=stylegan2: flat, num_fp16_res and conv_clamp left to defaults."""
    k = G.init_kwargs
    return EasyDict(z_dim=k["z_dim"], c_dim=k["c_dim"], w_dim=k["w_dim"], img_resolution=k["img_resolution"],
                    img_channels=k["img_channels"], mapping_kwargs=EasyDict(num_layers=k["mapping_layers"]),
                    channel_base=k["channel_base"], channel_max=k["channel_max"],
                    fused_modconv_default="inference_only")


def d_kwargs(D, with_precision: bool = True) -> EasyDict:
    k = D.init_kwargs
    kw = EasyDict(c_dim=k["c_dim"], img_resolution=k["img_resolution"], img_channels=k["img_channels"],
                  channel_base=k["channel_base"], channel_max=k["channel_max"], block_kwargs=EasyDict(),
                  mapping_kwargs=EasyDict(num_layers=k["mapping_layers"]),
                  epilogue_kwargs=EasyDict(mbstd_group_size=k["mbstd_group_size"]))
    if with_precision:
        kw.update(num_fp16_res=k["num_fp16_res"], conv_clamp=k["conv_clamp"])
    return kw


def write_nvidia_pickle(path, *, G=None, G_ema=None, D=None, src=ADA_SRC, extra: dict | None = None,
                        strip: tuple[str, ...] = (), protocol: int = 4, sg3_kwargs: bool = False) -> None:
    """A `network-snapshot-*.pkl` as NVIDIA's training loop writes it."""
    g_kwargs = sg3_g_kwargs if sg3_kwargs else ada_g_kwargs
    data = dict(training_set_kwargs=dict(class_name="training.dataset.ImageFolderDataset", path="/data/sitter.zip",
                                         use_labels=False, max_size=1234, xflip=False, resolution=32))
    for key, net in (("G", G), ("D", D), ("G_ema", G_ema)):
        if net is not None:
            kw = d_kwargs(net, not sg3_kwargs) if key == "D" else g_kwargs(net)
            data[key] = persistent(net, src, kw, strip)
    data["augment_pipe"] = None
    data.update(extra or {})
    with nvidia_names(), open(path, "wb") as f:
        pickle.dump(data, f, protocol=protocol)


def dump_with_nvidia_names(obj, path, protocol: int = 4) -> None:
    with nvidia_names(), open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


# ---------------------------------------------------------------------------------------------------------------
# rosinality


def _kernel(gain: float) -> torch.Tensor:
    k = torch.tensor([1.0, 3.0, 3.0, 1.0])
    k = k[None, :] * k[:, None]
    return k / k.sum() * gain


def rosinality_generator_state(G) -> dict[str, torch.Tensor]:
    """Our G's weights under rosinality's model.py names and shapes."""
    sd = {k: v.detach().clone() for k, v in G.state_dict().items()}
    out = {}
    for i in range(G.init_kwargs["mapping_layers"]):
        out[f"style.{i + 1}.weight"] = sd[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = sd[f"mapping.fc{i}.bias"]

    def styled(theirs, ours):
        out[f"{theirs}.conv.weight"] = sd[f"{ours}.weight"].unsqueeze(0)
        out[f"{theirs}.conv.modulation.weight"] = sd[f"{ours}.affine.weight"]
        out[f"{theirs}.conv.modulation.bias"] = sd[f"{ours}.affine.bias"]
        out[f"{theirs}.noise.weight"] = sd[f"{ours}.noise_strength"].reshape(1)
        out[f"{theirs}.activate.bias"] = sd[f"{ours}.bias"]

    def rgb(theirs, ours):
        out[f"{theirs}.conv.weight"] = sd[f"{ours}.weight"].unsqueeze(0)
        out[f"{theirs}.conv.modulation.weight"] = sd[f"{ours}.affine.weight"]
        out[f"{theirs}.conv.modulation.bias"] = sd[f"{ours}.affine.bias"]
        out[f"{theirs}.bias"] = sd[f"{ours}.bias"].reshape(1, -1, 1, 1)

    out["input.input"] = sd["synthesis.b4.const"].unsqueeze(0)
    styled("conv1", "synthesis.b4.conv1")
    rgb("to_rgb1", "synthesis.b4.torgb")
    noises = [sd["synthesis.b4.conv1.noise_const"]]
    res, k = 8, 0
    while res <= G.img_resolution:
        styled(f"convs.{2 * k}", f"synthesis.b{res}.conv0")
        out[f"convs.{2 * k}.conv.blur.kernel"] = _kernel(4.0)
        styled(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1")
        rgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb")
        out[f"to_rgbs.{k}.upsample.kernel"] = _kernel(4.0)
        noises += [sd[f"synthesis.b{res}.conv0.noise_const"], sd[f"synthesis.b{res}.conv1.noise_const"]]
        res, k = res * 2, k + 1
    for i, noise in enumerate(noises):
        out[f"noises.noise_{i}"] = noise.reshape(1, 1, *noise.shape)
    return out


def rosinality_discriminator_state(D) -> dict[str, torch.Tensor]:
    sd = {k: v.detach().clone() for k, v in D.state_dict().items()}
    size = D.img_resolution
    out = {"convs.0.0.weight": sd[f"b{size}.fromrgb.weight"], "convs.0.1.bias": sd[f"b{size}.fromrgb.bias"]}
    res, k = size, 1
    while res > 4:
        out[f"convs.{k}.conv1.0.weight"] = sd[f"b{res}.conv0.weight"]
        out[f"convs.{k}.conv1.1.bias"] = sd[f"b{res}.conv0.bias"]
        out[f"convs.{k}.conv2.0.kernel"] = _kernel(1.0)
        out[f"convs.{k}.conv2.1.weight"] = sd[f"b{res}.conv1.weight"]
        out[f"convs.{k}.conv2.2.bias"] = sd[f"b{res}.conv1.bias"]
        out[f"convs.{k}.skip.0.kernel"] = _kernel(1.0)
        out[f"convs.{k}.skip.1.weight"] = sd[f"b{res}.skip.weight"]
        res, k = res // 2, k + 1
    out["final_conv.0.weight"] = sd["b4.conv.weight"]
    out["final_conv.1.bias"] = sd["b4.conv.bias"]
    out["final_linear.0.weight"], out["final_linear.0.bias"] = sd["b4.fc.weight"], sd["b4.fc.bias"]
    out["final_linear.1.weight"], out["final_linear.1.bias"] = sd["b4.out.weight"], sd["b4.out.bias"]
    return out


def write_rosinality_checkpoint(path, *, G, G_ema, D, size: int, n_mlp: int, latent: int,
                                channel_multiplier: int = 2) -> None:
    """As rosinality's train.py saves `checkpoint/NNNNNN.pt` (Adam states with real tensors, args Namespace)."""
    def adam_state(sd):
        params = [torch.nn.Parameter(v.clone()) for v in sd.values()]
        opt = torch.optim.Adam(params, lr=0.002, betas=(0.0, 0.99))
        sum(p.sum() for p in params).backward()
        opt.step()
        return opt.state_dict()

    g, d = rosinality_generator_state(G), rosinality_discriminator_state(D)
    args = argparse.Namespace(path="/data/lmdb", iter=800000, batch=16, size=size, r1=10, lr=0.002,
                              channel_multiplier=channel_multiplier, latent=latent, n_mlp=n_mlp, start_iter=0,
                              augment=False, distributed=False)
    torch.save({"g": g, "d": d, "g_ema": rosinality_generator_state(G_ema), "g_optim": adam_state(g),
                "d_optim": adam_state(d), "args": args, "ada_aug_p": 0.0}, path)
