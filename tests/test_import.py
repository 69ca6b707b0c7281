"""Importing NVIDIA pickles and rosinality checkpoints: safety, coverage, equivalence with our networks.

The files are built here in the foreign formats from our own networks (`tests/foreign_formats.py`); an imported
network must then reproduce the original's w, images and logits. The one-off comparison against NVIDIA's and
rosinality's real code is described in the README ("Starting from a public model").
"""

import hashlib
import io
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from foreign_formats import (ADA_SRC, SG3_SG2_SRC, SG3_SRC, UNKNOWN_SRC, EasyDict, Persistent, Raw,
                             dump_with_nvidia_names, persistent, rosinality_discriminator_state,
                             rosinality_generator_state, write_nvidia_pickle, write_rosinality_checkpoint)
from random_weights import randomise
from training.checkpoint import build_network
from training.errors import DataError
from training.importers.import_common import channel_params
from training.importers.importing import load_any_checkpoint, load_any_generator
from training.networks import Discriminator, Generator
from training.importers.safe_unpickle import restricted_load

TOL = 1e-4


def small_g(seed=0, **kw):
    args = dict(img_resolution=32, z_dim=8, w_dim=8, mapping_layers=2, channel_base=128, channel_max=16)
    args.update(kw)
    torch.manual_seed(seed)
    return randomise(Generator(**args), seed + 100).eval()


def small_d(seed=0, **kw):
    args = dict(img_resolution=32, channel_base=128, channel_max=16, mapping_layers=2)
    args.update(kw)
    torch.manual_seed(seed)
    return randomise(Discriminator(**args), seed + 100).eval()


def nvidia_z(seeds, z_dim):
    """z exactly as NVIDIA's generate.py / gen_images.py draw it (written out here, not our helper)."""
    return torch.from_numpy(np.concatenate([np.random.RandomState(s).randn(1, z_dim) for s in seeds])).float()


def one_hot(classes, c_dim):
    c = torch.zeros([len(classes), c_dim])
    c[torch.arange(len(classes)), torch.tensor(classes)] = 1
    return c


def assert_same_generator(ours, original, c=None, seeds=(0, 1, 2, 3)):
    z = nvidia_z(seeds, original.z_dim)
    with torch.no_grad():
        for psi in (1.0, 0.7):
            ws_a, ws_b = ours.mapping(z, c, truncation_psi=psi), original.mapping(z, c, truncation_psi=psi)
            assert (ws_a - ws_b).abs().max() < TOL
            img_a = ours.synthesis(ws_a, noise_mode="const")
            img_b = original.synthesis(ws_b, noise_mode="const")
            assert img_a.abs().max() > 0.1  # a real picture, not an empty comparison
            assert (img_a - img_b).abs().max() < TOL


def assert_same_discriminator(ours, original, c=None):
    img = torch.randn([4, original.img_channels, original.img_resolution, original.img_resolution],
                      generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        a, b = ours(img, c), original(img, c)
    assert b.abs().max() > 1e-3
    assert (a - b).abs().max() < TOL


# ---------------------------------------------------------------------------------------------------------------
# NVIDIA: equivalence and coverage


def test_stylegan2_ada_pickle_reproduces_the_original(tmp_path):
    G = small_g(1, c_dim=3, num_fp16_res=2, conv_clamp=256)
    G_ema = small_g(2, c_dim=3, num_fp16_res=2, conv_clamp=256)
    D = small_d(3, c_dim=3, num_fp16_res=2, conv_clamp=256)
    path = tmp_path / "network-snapshot-000120.pkl"
    write_nvidia_pickle(path, G=G, G_ema=G_ema, D=D)

    payload = load_any_checkpoint(path)
    assert payload["G_kwargs"] == G.init_kwargs
    assert payload["D_kwargs"] == D.init_kwargs
    assert "opt_G" not in payload and "progress" not in payload
    c = one_hot([0, 1, 2, 0], 3)
    assert_same_generator(build_network("G", payload["G_kwargs"], payload["G_ema"]), G_ema, c)
    assert_same_generator(build_network("G", payload["G_kwargs"], payload["G"]), G, c)
    assert_same_discriminator(build_network("D", payload["D_kwargs"], payload["D"]).eval(), D, c)

    origin = payload["imported_from"]
    assert origin["format"] == "nvidia-pickle"
    assert origin["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert origin["source"]["networks"]["G_ema"]["module"] == "training.networks"
    assert origin["source"]["networks"]["G"]["init_kwargs"]["synthesis_kwargs"]["conv_clamp"] == 256
    assert origin["source"]["training_set_kwargs"]["max_size"] == 1234


def test_stylegan3_repository_defaults_fill_what_the_pickle_does_not_say(tmp_path):
    """stylegan3's networks_stylegan2 defaults to num_fp16_res=4, conv_clamp=256, w_avg_beta=0.998; ada's to 0,
    None, 0.995. With those settings absent from both the init arguments and the objects, the module decides."""
    strip = ("conv_clamp", "use_fp16", "num_fp16_res", "w_avg_beta")
    G = small_g(4, num_fp16_res=4, conv_clamp=256, w_avg_beta=0.998)
    D = small_d(5, num_fp16_res=4, conv_clamp=256)
    sg3 = tmp_path / "sg3.pkl"
    write_nvidia_pickle(sg3, G_ema=G, D=D, src=SG3_SG2_SRC, strip=strip, sg3_kwargs=True)
    payload = load_any_checkpoint(sg3)
    assert payload["G_kwargs"] == G.init_kwargs
    assert payload["D_kwargs"] == D.init_kwargs
    assert payload["imported_from"]["source"]["networks"]["G_ema"]["module"] == "training.networks_stylegan2"
    assert_same_generator(build_network("G", payload["G_kwargs"], payload["G_ema"]), G)

    ada = tmp_path / "ada.pkl"
    write_nvidia_pickle(ada, G_ema=G, D=D, src=ADA_SRC, strip=strip, sg3_kwargs=True)
    kw = load_any_checkpoint(ada)["G_kwargs"]
    assert (kw["num_fp16_res"], kw["conv_clamp"], kw["w_avg_beta"]) == (0, None, 0.995)

    unknown = tmp_path / "fork.pkl"
    write_nvidia_pickle(unknown, G_ema=G, src=UNKNOWN_SRC, strip=strip, sg3_kwargs=True)
    with pytest.raises(DataError, match="does not record its"):
        load_any_checkpoint(unknown)


def test_the_objects_own_settings_win_over_defaults(tmp_path):
    """A fork (unrecognised source) still imports when its objects record their settings, as NVIDIA's do."""
    G = small_g(6, num_fp16_res=1, conv_clamp=128, mapping_layers=3)
    path = tmp_path / "fork.pkl"
    write_nvidia_pickle(path, G_ema=G, src=UNKNOWN_SRC, sg3_kwargs=True)
    payload = load_any_checkpoint(path)
    assert payload["G_kwargs"] == G.init_kwargs
    assert "G copied from G_ema" in " ".join(payload["imported_from"]["source"]["notes"])
    assert "D" not in payload


def test_fully_spelled_out_arguments_are_accepted(tmp_path):
    """NVIDIA's published pickles converted from TensorFlow (legacy.py) pass every argument explicitly, at values
    our networks represent; the discriminator may use the whole batch as its minibatch-stddev group (None)."""
    G, D = small_g(17), small_d(17, mbstd_group_size=None, mapping_layers=0)
    g_kwargs = EasyDict(z_dim=8, c_dim=0, w_dim=8, img_resolution=32, img_channels=3,
                        mapping_kwargs=EasyDict(num_layers=2, embed_features=None, layer_features=None,
                                                activation="lrelu", lr_multiplier=0.01, w_avg_beta=0.995),
                        synthesis_kwargs=EasyDict(channel_base=128, channel_max=16, num_fp16_res=0, conv_clamp=None,
                                                  architecture="skip", resample_filter=[1, 3, 3, 1], use_noise=True,
                                                  activation="lrelu"))
    d_kwargs = EasyDict(c_dim=0, img_resolution=32, img_channels=3, architecture="resnet", channel_base=128,
                        channel_max=16, num_fp16_res=0, conv_clamp=None, cmap_dim=None,
                        block_kwargs=EasyDict(activation="lrelu", resample_filter=[1, 3, 3, 1], freeze_layers=0),
                        mapping_kwargs=EasyDict(num_layers=0, embed_features=None, layer_features=None,
                                                activation="lrelu", lr_multiplier=0.1),
                        epilogue_kwargs=EasyDict(mbstd_group_size=None, mbstd_num_channels=1, activation="lrelu"))
    path = tmp_path / "ffhq.pkl"
    dump_with_nvidia_names({"G": persistent(G, ADA_SRC, g_kwargs), "D": persistent(D, ADA_SRC, d_kwargs),
                            "G_ema": persistent(G, ADA_SRC, g_kwargs), "training_set_kwargs": None,
                            "augment_pipe": None}, path)
    payload = load_any_checkpoint(path)
    assert payload["G_kwargs"] == G.init_kwargs
    assert payload["D_kwargs"] == dict(D.init_kwargs, mapping_lr_multiplier=0.1)
    img = torch.randn([3, 3, 32, 32], generator=torch.Generator().manual_seed(2))  # 3: one group of all
    with torch.no_grad():
        imported = build_network("D", payload["D_kwargs"], payload["D"]).eval()
        assert (imported(img) - D(img)).abs().max() < TOL


def test_protocol_2_pickle_and_bare_network(tmp_path):
    """Older pickles spell bytes as _codecs.encode and sets as builtins.set; a network may be pickled alone."""
    G = small_g(7)
    path = tmp_path / "p2.pkl"
    write_nvidia_pickle(path, G_ema=G, protocol=2)
    assert_same_generator(load_any_generator(path), G)
    bare = tmp_path / "bare.pkl"
    from foreign_formats import ada_g_kwargs

    dump_with_nvidia_names(persistent(G, ADA_SRC, ada_g_kwargs(G)), bare)
    assert_same_generator(load_any_generator(bare), G)


def test_numpy_values_in_pickles_are_rebuilt_as_plain_numbers(tmp_path):
    path = tmp_path / "np.pkl"
    data = {"f": np.float64(1.5), "i": np.int32(-7), "b": np.bool_(True), "a": np.arange(6, dtype=np.float32)
            .reshape(2, 3), "big": np.array([1, 2], dtype=">i4"), "t": torch.arange(4.0)[1:3], "s": {1, 2}}
    dump_with_nvidia_names(data, path)
    with open(path, "rb") as f:
        out = restricted_load(f)
    assert out["f"] == 1.5 and type(out["f"]) is float
    assert out["i"] == -7 and out["b"] is True
    np.testing.assert_array_equal(out["a"], np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(out["big"], [1, 2])
    assert torch.equal(out["t"], torch.tensor([1.0, 2.0])) and out["s"] == {1, 2}
    dump_with_nvidia_names({"o": np.array([1, "x"], dtype=object)}, path)
    with open(path, "rb") as f, pytest.raises(DataError, match="only numbers"):
        restricted_load(f)


# ---------------------------------------------------------------------------------------------------------------
# NVIDIA: nothing from the file runs


class Evil:
    def __init__(self, flag):
        self.flag = flag

    def __reduce__(self):
        return (os.system, (f"touch {self.flag}",))


def test_module_src_is_never_executed(tmp_path):
    flag = tmp_path / "module_src_ran"
    evil_src = ADA_SRC + f"import os\nos.system('touch {flag}')\nopen({str(flag)!r}, 'w').write('ran')\n"
    G = small_g(8)
    path = tmp_path / "evil_src.pkl"
    write_nvidia_pickle(path, G_ema=G, src=evil_src)
    assert_same_generator(load_any_generator(path), G)  # loads: the source is only text to us
    assert not flag.exists()


def test_unexpected_globals_are_refused_by_name(tmp_path):
    flag = tmp_path / "ran"
    G = small_g(9)
    path = tmp_path / "evil.pkl"
    write_nvidia_pickle(path, G_ema=G, extra={"payload": Evil(flag)})
    with pytest.raises(DataError, match=f"`{os.system.__module__}.system`"):
        load_any_checkpoint(path)
    for func, args, name in ((eval, ("1",), "builtins.eval"), (torch.load, ("x",), "torch.serialization.load"),
                             (getattr, ("abc", "upper"), "builtins.getattr")):
        dump_with_nvidia_names({"G_ema": Raw(func, *args)}, path)
        with pytest.raises(DataError, match=f"`{name}`"):
            load_any_checkpoint(path)
    assert not flag.exists()


def test_storage_bytes_are_read_without_unpickling_code(tmp_path):
    """torch's own `_load_from_bytes` would run a full torch.load on these bytes; ours reads them weights-only."""
    flag = tmp_path / "ran"
    inner = io.BytesIO()
    torch.save({"x": Evil(flag)}, inner)
    dump_with_nvidia_names({"G_ema": Raw(torch.storage._load_from_bytes, inner.getvalue())}, tmp_path / "s.pkl")
    with pytest.raises(DataError, match="storage in the pickle cannot be read safely"):
        load_any_checkpoint(tmp_path / "s.pkl")
    assert not flag.exists()


def test_tensor_views_past_their_storage_are_refused(tmp_path):
    storage = torch.arange(4.0).storage()
    dump_with_nvidia_names({"t": Raw(torch._utils._rebuild_tensor_v2, storage, 0, (1000,), (1,), False,
                                     OrderedDict())}, tmp_path / "v.pkl")
    with open(tmp_path / "v.pkl", "rb") as f, pytest.raises(DataError, match="reaches element 999"):
        restricted_load(f)


def test_truncated_pickles_are_data_errors(tmp_path):
    G, D = small_g(10), small_d(10)
    path = tmp_path / "full.pkl"
    write_nvidia_pickle(path, G_ema=G, D=D)
    data = path.read_bytes()
    cut = tmp_path / "cut.pkl"
    for n in (1, 2, 50, 3000, len(data) // 3, len(data) // 2, len(data) - 1):
        cut.write_bytes(data[:n])
        with pytest.raises(DataError, match="truncated|corrupt|not an NVIDIA"):
            load_any_checkpoint(cut)


def test_stylegan3_generator_is_refused_by_name(tmp_path):
    def rec(name, modules=None, **attrs):
        state = dict(_parameters=OrderedDict(), _buffers=OrderedDict(), _modules=OrderedDict(modules or {}),
                     _init_args=(), _init_kwargs={}, training=False, **attrs)
        return Persistent(dict(type="class", version=6, module_src=SG3_SRC, class_name=name, state=state))

    G = rec("Generator", {"synthesis": rec("SynthesisNetwork", {"input": rec("SynthesisInput", channels=4),
                                                                "L0_36_512": rec("SynthesisLayer")}),
                          "mapping": rec("MappingNetwork")}, img_resolution=16)
    dump_with_nvidia_names({"G": G, "G_ema": G, "D": None}, tmp_path / "sg3.pkl")
    with pytest.raises(DataError, match="StyleGAN3 generator"):
        load_any_checkpoint(tmp_path / "sg3.pkl")


def test_variants_our_networks_cannot_represent_are_refused(tmp_path):
    G = small_g(11)
    path = tmp_path / "v.pkl"

    def tampered(edit):
        item = persistent(G, ADA_SRC, EasyDict(z_dim=8, c_dim=0, w_dim=8, img_resolution=32, img_channels=3))
        edit(item.meta["state"])
        dump_with_nvidia_names({"G_ema": item}, path)
        with pytest.raises(DataError) as err:
            load_any_checkpoint(path)
        return str(err.value)

    def resnet(state):
        state["_modules"]["synthesis"].meta["state"]["_modules"]["b32"].meta["state"]["architecture"] = "resnet"

    assert "architecture 'resnet'" in tampered(resnet)

    def wide(state):
        conv = state["_modules"]["synthesis"].meta["state"]["_modules"]["b32"].meta["state"]["_modules"]["conv1"]
        conv.meta["state"]["_parameters"]["weight"] = torch.nn.Parameter(torch.randn(4, 5, 3, 3))

    assert "cannot represent" in tampered(wide)

    def odd_resolution(state):
        state["img_resolution"] = 48

    assert "power of two" in tampered(odd_resolution)

    def foreign_layer(state):
        state["_modules"]["synthesis"].meta["class_name"] = "SynthesisNetworkWithAttention"

    assert "SynthesisNetworkWithAttention" in tampered(foreign_layer)

    D = small_d(11)
    item = persistent(D, ADA_SRC, EasyDict(c_dim=0, img_resolution=32, img_channels=3, architecture="skip",
                                           channel_base=128, channel_max=16))
    dump_with_nvidia_names({"G_ema": persistent(G, ADA_SRC, EasyDict(z_dim=8, w_dim=8)), "D": item}, path)
    for block in ("b32", "b16", "b8"):
        item.meta["state"]["_modules"][block].meta["state"]["architecture"] = "skip"
    dump_with_nvidia_names({"G_ema": persistent(G, ADA_SRC, EasyDict(z_dim=8, w_dim=8)), "D": item}, path)
    with pytest.raises(DataError, match="'skip' discriminator architecture"):
        load_any_checkpoint(path)


def test_not_a_network_pickle(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(DataError, match="not an NVIDIA network snapshot"):
        load_any_checkpoint(path)
    path.write_bytes(b"hello, not a model")
    with pytest.raises(DataError, match="neither an NVIDIA network pickle"):
        load_any_checkpoint(path)


# ---------------------------------------------------------------------------------------------------------------
# rosinality


def test_rosinality_checkpoint_reproduces_the_original(tmp_path):
    G, G_ema, D = small_g(12), small_g(13), small_d(14, mapping_layers=8)
    path = tmp_path / "020000.pt"
    write_rosinality_checkpoint(path, G=G, G_ema=G_ema, D=D, size=32, n_mlp=2, latent=8)
    payload = load_any_checkpoint(path)
    expected = dict(G.init_kwargs, w_avg_beta=0.995)
    assert payload["G_kwargs"] == expected
    assert payload["D_kwargs"] == D.init_kwargs
    imported = build_network("G", payload["G_kwargs"], payload["G_ema"])

    # no latent_avg in a trained checkpoint: w_avg is the mean w; check it against an estimate from other z
    z = torch.randn([16384, 8], generator=torch.Generator().manual_seed(123))
    with torch.no_grad():
        w = G_ema.mapping(z, None)[:, 0]
    assert (imported.w_avg - w.mean(0)).abs().max() < 5 * 1.5 * w.std(0).max() / 16384 ** 0.5
    with torch.no_grad():
        G_ema.mapping.w_avg.copy_(imported.w_avg)
        G.mapping.w_avg.copy_(build_network("G", payload["G_kwargs"], payload["G"]).w_avg)
    assert_same_generator(imported, G_ema)
    assert_same_generator(build_network("G", payload["G_kwargs"], payload["G"]), G)
    assert_same_discriminator(build_network("D", payload["D_kwargs"], payload["D"]).eval(), D)
    origin = payload["imported_from"]
    assert origin["format"] == "rosinality" and origin["source"]["args"]["n_mlp"] == 2
    assert "estimated" in origin["source"]["w_avg"]["G_ema"]


def test_rosinality_converted_checkpoint_uses_its_latent_avg(tmp_path):
    G = small_g(15)
    latent_avg = torch.randn(8, generator=torch.Generator().manual_seed(1))
    path = tmp_path / "stylegan2-ffhq-config-f.pt"
    torch.save({"g_ema": rosinality_generator_state(G), "latent_avg": latent_avg}, path)
    imported = load_any_generator(path)
    assert torch.equal(imported.w_avg, latent_avg)
    with torch.no_grad():
        G.mapping.w_avg.copy_(latent_avg)
    assert_same_generator(imported, G)


def test_rosinality_layouts_we_cannot_represent_are_refused(tmp_path):
    G = small_g(16)
    sd = rosinality_generator_state(G)
    # channels growing with resolution: no (channel_base, channel_max) gives that
    grown = dict(sd)
    grown["to_rgbs.2.conv.weight"] = torch.randn(1, 3, 32, 1, 1)
    grown["convs.4.conv.weight"] = torch.randn(1, 32, 16, 3, 3)
    torch.save({"g_ema": grown}, tmp_path / "g.pt")
    with pytest.raises(DataError, match="cannot represent"):
        load_any_checkpoint(tmp_path / "g.pt")
    extra = dict(sd, **{"to_rgbs.0.iwt.ll": torch.zeros(1)})  # SWAGAN-like
    torch.save({"g_ema": extra}, tmp_path / "g.pt")
    with pytest.raises(DataError, match="SWAGAN"):
        load_any_checkpoint(tmp_path / "g.pt")
    blur = dict(sd, **{"convs.0.conv.blur.kernel": torch.ones(4, 4)})
    torch.save({"g_ema": blur}, tmp_path / "g.pt")
    with pytest.raises(DataError, match="blur kernel"):
        load_any_checkpoint(tmp_path / "g.pt")
    torch.save({"g_ema": sd, "d": rosinality_discriminator_state(small_d(16)), "other": Evil(tmp_path / "f")},
               tmp_path / "g.pt")
    with pytest.raises(DataError, match="without running code"):
        load_any_checkpoint(tmp_path / "g.pt")
    assert not (tmp_path / "f").exists()


def test_channel_params_reproduce_tables():
    assert channel_params({4: 512, 8: 512, 16: 512, 32: 512, 64: 256}) == (16384, 512)
    assert channel_params({4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256}) == (32768, 512)
    assert channel_params({4: 16, 8: 16, 16: 8, 32: 4}, (128, 16)) == (128, 16)
    assert channel_params({4: 8, 8: 16}) is None
    assert channel_params({4: 512, 8: 512, 16: 512, 32: 512, 64: 1024}) is None  # rosinality multiplier 4
