"""training/dataset.py against files the tests write themselves, in NVIDIA's zip layout and as plain folders."""

import io
import json
import zipfile

import numpy as np
import PIL.Image
import pytest
import torch

from training.dataset import ImageDataset
from training.errors import DataError, UsageError


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    PIL.Image.fromarray(array).save(buf, format="png")
    return buf.getvalue()


def random_images(n, size=16, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = (size, size) if channels == 1 else (size, size, channels)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(n)]


def write_nvidia_zip(path, images, labels=None):
    """The layout of NVIDIA's dataset_tool.py: 00000/img00000000.png ..., dataset.json with labels."""
    names = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, image in enumerate(images):
            idx = f"{i:08d}"
            name = f"{idx[:5]}/img{idx}.png"
            names.append(name)
            zf.writestr(name, png_bytes(image))
        meta = {"labels": None if labels is None else [[n, l] for n, l in zip(names, labels)]}
        zf.writestr("dataset.json", json.dumps(meta))
    return names


def test_nvidia_zip_roundtrip(tmp_path):
    images = random_images(5)
    write_nvidia_zip(tmp_path / "d.zip", images)
    ds = ImageDataset(tmp_path / "d.zip")
    assert len(ds) == 5 and ds.resolution == 16 and ds.shape.channels == 3
    assert ds.provenance is None and ds.labels is None
    for i, image in enumerate(images):
        item = ds[i]
        assert item.dtype == torch.uint8 and item.shape == (3, 16, 16)
        assert np.array_equal(item.numpy().transpose(1, 2, 0), image)
    ds.require_trainable()


def test_labels_follow_names(tmp_path):
    images = random_images(3)
    write_nvidia_zip(tmp_path / "d.zip", images, labels=[2, 0, 1])
    ds = ImageDataset(tmp_path / "d.zip")
    assert ds.labels.tolist() == [2, 0, 1]


def test_folder_grey_and_order(tmp_path):
    images = random_images(3, channels=1)
    for i, image in enumerate(images):
        PIL.Image.fromarray(image).save(tmp_path / f"frame{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    ds = ImageDataset(tmp_path)
    assert len(ds) == 3 and ds.shape.channels == 1
    assert np.array_equal(ds[2].numpy()[0], images[2])


def test_sha256_changes_with_content(tmp_path):
    write_nvidia_zip(tmp_path / "a.zip", random_images(2, seed=1))
    write_nvidia_zip(tmp_path / "b.zip", random_images(2, seed=2))
    a, b = ImageDataset(tmp_path / "a.zip").sha256(), ImageDataset(tmp_path / "b.zip").sha256()
    import hashlib
    assert a == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest()
    assert a != b


def test_dataloader_workers_reopen_the_zip(tmp_path):
    images = random_images(8)
    write_nvidia_zip(tmp_path / "d.zip", images)
    ds = ImageDataset(tmp_path / "d.zip")
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, shuffle=False)
    batches = torch.cat(list(loader))
    assert torch.equal(batches, torch.stack([torch.from_numpy(im.transpose(2, 0, 1)) for im in images]))


def test_bad_datasets(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        ImageDataset(tmp_path / "missing.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        ImageDataset(tmp_path / "empty")
    (tmp_path / "text.zip").write_text("hello")
    with pytest.raises(DataError, match="neither a zip"):
        ImageDataset(tmp_path / "text.zip")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    PIL.Image.fromarray(random_images(1, size=16)[0]).save(mixed / "a.png")
    PIL.Image.fromarray(random_images(1, size=32)[0]).save(mixed / "b.png")
    ds = ImageDataset(mixed)
    with pytest.raises(DataError, match="one size"):
        ds[1]
    rect = tmp_path / "rect"
    rect.mkdir()
    PIL.Image.fromarray(np.zeros((16, 24, 3), np.uint8)).save(rect / "a.png")
    with pytest.raises(DataError, match="power of two"):
        ImageDataset(rect).require_trainable()
    with zipfile.ZipFile(tmp_path / "broken.zip", "w") as zf:
        zf.writestr("00000/img00000000.png", png_bytes(random_images(1)[0]))
        zf.writestr("00000/img00000001.png", b"\x89PNG garbage")
    ds = ImageDataset(tmp_path / "broken.zip")
    with pytest.raises(DataError, match="does not decode"):
        ds[1]
