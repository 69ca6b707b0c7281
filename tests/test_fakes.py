"""How evaluation draws its fakes: seed i is fake i, labels follow the dataset, shares cover every seed once."""

import json

import numpy as np
import PIL.Image
import pytest
import torch

from evaluation.fakes import FakeSpec, fake_labels, render, shard
from training.dataset import ImageDataset
from training.distributed import DistEnv
from training.errors import DataError
from training.networks import Generator, z_from_seed


def tiny_generator(c_dim=0):
    torch.manual_seed(0)
    return Generator(img_resolution=16, z_dim=8, w_dim=8, c_dim=c_dim, mapping_layers=1, channel_base=64,
                     channel_max=16).eval()


def labelled_folder(tmp_path, labels):
    folder = tmp_path / "frames"
    folder.mkdir()
    names = []
    for i in range(len(labels)):
        PIL.Image.new("RGB", (16, 16), (i * 20, 0, 0)).save(folder / f"{i:03d}.png")
        names.append(f"{i:03d}.png")
    (folder / "dataset.json").write_text(json.dumps({"labels": [[n, c] for n, c in zip(names, labels)]}))
    return ImageDataset(folder)


def test_labels_follow_the_datasets_distribution(tmp_path):
    dataset = labelled_folder(tmp_path, [0, 0, 0, 2])
    labels = fake_labels(tiny_generator(c_dim=3), dataset, 4000)
    assert labels.shape == (4000, 3) and set(labels.sum(1).tolist()) == {1.0}
    share = labels.mean(0).numpy()
    np.testing.assert_allclose(share, [0.75, 0.0, 0.25], atol=0.03)
    assert torch.equal(labels, fake_labels(tiny_generator(c_dim=3), dataset, 4000))  # seeded: the same again
    assert fake_labels(tiny_generator(), dataset, 10) is None


def test_a_conditional_model_needs_labelled_reals(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    PIL.Image.new("RGB", (16, 16)).save(folder / "a.png")
    with pytest.raises(DataError, match="conditional"):
        fake_labels(tiny_generator(c_dim=3), ImageDataset(folder), 4)


def test_fake_i_is_seed_i_quantised_as_nvidia_does():
    G = tiny_generator()
    spec = FakeSpec(num=6)
    images = render(G, [4, 5], spec, None, torch.device("cpu"))
    with torch.no_grad():
        expected = G(torch.cat([z_from_seed(4, 8), z_from_seed(5, 8)]), noise_mode="const")
    expected = torch.floor(expected.double() * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    assert images.dtype == torch.uint8 and torch.equal(images, expected)


@pytest.mark.parametrize("num", [1, 10, 17])
def test_shares_cover_every_seed_once_in_order(num):
    for world in (1, 2, 3, 4):
        shares = [shard(num, DistEnv(rank=r, world_size=world, local_rank=r, device=torch.device("cpu")))
                  for r in range(world)]
        assert [i for s in shares for i in s] == list(range(num))
