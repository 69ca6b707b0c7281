"""The networks' readable edges: shape checks at block boundaries, extra_repr on every block, init_kwargs read
from the constructor (so a new argument cannot be forgotten in it)."""

import inspect

import pytest
import torch

from training.networks import (Discriminator, DiscriminatorEpilogue, Generator, SynthesisBlock, ToRGBLayer,
                               check_shape, constructor_kwargs)


def tiny_g(**kw):
    return Generator(img_resolution=16, z_dim=8, w_dim=8, mapping_layers=2, channel_base=64, channel_max=16, **kw)


def tiny_d(**kw):
    return Discriminator(img_resolution=16, channel_base=64, channel_max=16, **kw)


def test_check_shape_names_the_tensor():
    check_shape(torch.zeros(2, 3, 4), [None, 3, 4], "x")
    with pytest.raises(ValueError, match=r"x must be \[N, 3, 5\], got \[2, 3, 4\]"):
        check_shape(torch.zeros(2, 3, 4), [None, 3, 5], "x")
    with pytest.raises(ValueError, match=r"ws must be \[N, 3\], got \[2, 3, 4\]"):
        check_shape(torch.zeros(2, 3, 4), [None, 3], "ws")


def test_a_block_refuses_the_wrong_input_by_name():
    G = tiny_g()
    block = G.synthesis.b8  # channels min(64 / r, 16): x [N, 16, 4, 4] -> [N, 8, 8, 8]; img [N, 3, 4, 4]; ws [N, 3, 8]
    ws = torch.zeros(2, 3, 8)
    x, img = torch.zeros(2, 16, 4, 4), torch.zeros(2, 3, 4, 4)
    out_x, out_img = block(x, img, ws)
    assert list(out_x.shape) == [2, 8, 8, 8] and list(out_img.shape) == [2, 3, 8, 8]
    with pytest.raises(ValueError, match=r"x must be \[2, 16, 4, 4\], got \[2, 16, 8, 8\]"):
        block(torch.zeros(2, 16, 8, 8), img, ws)
    with pytest.raises(ValueError, match=r"img must be \[2, 3, 4, 4\]"):
        block(x, torch.zeros(2, 1, 4, 4), ws)
    with pytest.raises(ValueError, match=r"ws must be \[N, 3, 8\]"):
        block(x, img, torch.zeros(2, 2, 8))
    D = tiny_d()
    with pytest.raises(ValueError, match=r"x must be \[N, 8, 8, 8\]"):
        D.b8(torch.zeros(2, 16, 4, 4), torch.zeros(2, 3, 16, 16))
    with pytest.raises(ValueError, match=r"x must be \[N, 16, 4, 4\]"):
        D.b4(torch.zeros(2, 8, 4, 4), None)


def test_every_block_says_what_it_is():
    G, D = tiny_g(conv_clamp=256), tiny_d(c_dim=3)
    assert G.synthesis.b8.torgb.extra_repr() == "in_channels=8, out_channels=3, w_dim=8, conv_clamp=256"
    assert D.b4.extra_repr() == f"in_channels=16, cmap_dim={D.cmap_dim}, resolution=4, img_channels=3"
    assert "in_channels=16, out_channels=8, resolution=8" in G.synthesis.b8.extra_repr()
    text = repr(G) + repr(D)
    for cls in (ToRGBLayer, DiscriminatorEpilogue, SynthesisBlock):
        assert cls.extra_repr is not torch.nn.Module.extra_repr, cls
    assert "(torgb): ToRGBLayer(\n        in_channels=8, out_channels=3" in text
    assert "(b4): DiscriminatorEpilogue(\n    in_channels=16, cmap_dim=" in text


def test_init_kwargs_are_the_constructor_arguments():
    G = tiny_g(c_dim=2, num_fp16_res=2, conv_clamp=256, w_avg_beta=0.99)
    D = tiny_d(c_dim=2, mbstd_group_size=2, architecture="orig")
    for net, cls in ((G, Generator), (D, Discriminator)):
        names = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]
        assert list(net.init_kwargs) == names
    assert G.init_kwargs["w_avg_beta"] == 0.99 and G.init_kwargs["c_dim"] == 2
    assert D.init_kwargs["architecture"] == "orig" and D.init_kwargs["cmap_dim"] is None  # as given, not derived
    rebuilt = Generator(**G.init_kwargs)
    assert rebuilt.init_kwargs == G.init_kwargs
    assert constructor_kwargs(ToRGBLayer, dict(self=None, in_channels=1, out_channels=2, w_dim=3, kernel_size=1,
                                               conv_clamp=None, other=5)) == \
        dict(in_channels=1, out_channels=2, w_dim=3, kernel_size=1, conv_clamp=None)


def test_synthesis_blocks_take_no_unused_argument():
    assert "is_last" not in inspect.signature(SynthesisBlock.__init__).parameters
