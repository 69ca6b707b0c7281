"""Training and evaluation images as uint8 tensors, from likeness zips, NVIDIA `dataset_tool.py` zips or folders.

A dataset is read lazily (one PNG decoded per item) so that 18,000 frames at 1024 px never sit in memory, and the
zip handle is reopened in each DataLoader worker because open zip files cannot cross process boundaries.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import PIL.Image
import torch

from training.errors import DataError, UsageError
from training.footage.timecode import format_clock
from training.hashing import file_sha256, folder_sha256

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".gif"})


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def is_power_of_two(n: int) -> bool:
    return n > 0 and (n & (n - 1)) == 0


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Encoded bytes to HWC uint8 with 1 (grey) or 3 (colour) channels, as NVIDIA's loader reads them."""
    try:
        with PIL.Image.open(io.BytesIO(data)) as img:
            img.load()
            if img.mode not in ("L", "RGB"):
                img = img.convert("RGB")
            array = np.array(img)  # a writable copy: torch warns on read-only arrays
    except (OSError, ValueError, PIL.Image.DecompressionBombError) as err:
        raise DataError(f"{name} does not decode as an image ({err}); re-create the dataset") from err
    if array.ndim == 2:
        array = array[:, :, None]
    return array


@dataclass(frozen=True)
class ImageShape:
    channels: int
    height: int
    width: int

    @property
    def resolution(self) -> int:
        return self.width

    def __str__(self) -> str:
        return f"{self.width}x{self.height}x{self.channels}"


class ImageDataset(torch.utils.data.Dataset):
    """Images of one dataset, item i as a uint8 tensor [C, H, W]; never mirrored, never augmented."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise UsageError(f"dataset {self.path} does not exist; give a dataset zip or a folder of images")
        self._zip: zipfile.ZipFile | None = None
        self._zip_pid: int | None = None
        if self.path.is_dir():
            self.kind = "folder"
            files = sorted(p for p in self.path.rglob("*") if p.is_file() and is_image_name(p.name))
            self._files = files
            self.names = [p.relative_to(self.path).as_posix() for p in files]
            meta = self._read_folder_json()
        elif zipfile.is_zipfile(self.path):
            self.kind = "zip"
            self._files = []
            self.names = sorted(n for n in self._open_zip().namelist() if is_image_name(n))
            meta = self._read_zip_json()
        else:
            raise DataError(f"{self.path} is neither a zip file nor a folder; give a dataset made by "
                            "`likeness prepare`, an NVIDIA dataset_tool zip or a folder of images")
        if not self.names:
            raise DataError(f"{self.path} holds no images; check the path, or re-create the dataset with "
                            "`likeness prepare`")
        self.metadata: dict = meta
        self.provenance: dict | None = meta.get("likeness")
        self.labels = self._parse_labels(meta.get("labels"))
        first = self.read_image(0)
        self.shape = ImageShape(first.shape[2], first.shape[0], first.shape[1])
        self._sha256: str | None = None

    # -- reading -----------------------------------------------------------------------------------------------

    def _open_zip(self) -> zipfile.ZipFile:
        if self._zip is None or self._zip_pid != os.getpid():
            self._zip = zipfile.ZipFile(self.path)
            self._zip_pid = os.getpid()
        return self._zip

    def _read_zip_json(self) -> dict:
        zf = self._open_zip()
        if "dataset.json" not in zf.namelist():
            return {}
        return self._parse_json(zf.read("dataset.json"))

    def _read_folder_json(self) -> dict:
        meta = self.path / "dataset.json"
        return self._parse_json(meta.read_bytes()) if meta.exists() else {}

    def _parse_json(self, data: bytes) -> dict:
        try:
            meta = json.loads(data)
        except ValueError as err:
            raise DataError(f"dataset.json in {self.path} is not valid JSON ({err})") from err
        if not isinstance(meta, dict):
            raise DataError(f"dataset.json in {self.path} is not a JSON object")
        return meta

    def _parse_labels(self, labels) -> np.ndarray | None:
        """NVIDIA's `labels`: [[name, int or list of floats], ...] or null."""
        if labels is None:
            return None
        table = dict(labels)
        try:
            values = [table[name] for name in self.names]
        except KeyError as err:
            raise DataError(f"dataset.json in {self.path} has no label for {err}") from err
        array = np.array(values)
        return array.astype(np.int64 if array.ndim == 1 else np.float32)

    def read_bytes(self, index: int) -> bytes:
        """The stored bytes of item `index`; a damaged member (bad CRC, truncated zip) is one DataError naming it."""
        try:
            if self.kind == "zip":
                return self._open_zip().read(self.names[index])
            return self._files[index].read_bytes()
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
            raise DataError(f"{self.describe(index)} cannot be read ({err}); the dataset is damaged: copy it again "
                            "or re-create it with `likeness prepare`") from None

    def read_image(self, index: int) -> np.ndarray:
        """Item `index` as HWC uint8."""
        return decode_image(self.read_bytes(index), self.describe(index))

    def describe(self, index: int) -> str:
        """`DATASET:MEMBER`, with the source file and time the frame was taken from when the provenance says."""
        where = f"{self.path}:{self.names[index]}"
        origin = frame_origin(self.provenance, self.names[index])
        return f"{where} (from {origin})" if origin else where

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> torch.Tensor:
        image = self.read_image(index)
        if (image.shape[2], image.shape[0], image.shape[1]) != (self.shape.channels, self.shape.height,
                                                                 self.shape.width):
            raise DataError(f"{self.path}:{self.names[index]} is {image.shape[1]}x{image.shape[0]}x"
                            f"{image.shape[2]} but the dataset's first image is {self.shape}; "
                            "all images of a dataset must have one size")
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))

    def label(self, index: int) -> np.ndarray | None:
        return None if self.labels is None else self.labels[index]

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_zip"] = None  # reopened lazily in the worker
        state["_zip_pid"] = None
        return state

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None

    # -- identity and checks -----------------------------------------------------------------------------------

    @property
    def resolution(self) -> int:
        return self.shape.resolution

    def sha256(self) -> str:
        """The zip's sha256, or for a folder one hash over its images' names and contents."""
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path) if self.kind == "zip" else folder_sha256(self._files, self.path)
        return self._sha256

    def require_trainable(self) -> None:
        """StyleGAN2 needs square images whose side is a power of two."""
        s = self.shape
        if s.width != s.height or not is_power_of_two(s.width):
            raise DataError(f"{self.path} has {s.width}x{s.height} images; training needs square images whose "
                            "side is a power of two (4 to 1024); re-create it with `likeness prepare --size N`")
        if s.channels not in (1, 3):
            raise DataError(f"{self.path} has {s.channels}-channel images; use grey or RGB images")


FRAME_INDEX = re.compile(r"(?:^|/)img(\d{8})\.png$")


def frame_origin(provenance: dict | None, name: str) -> str | None:
    """'clip.mp4 at 00:01.400' for a frame of a likeness dataset, from the provenance's per-frame index."""
    match = FRAME_INDEX.search(name)
    if not match or not isinstance(provenance, dict):
        return None
    frames, sources = provenance.get("frames"), provenance.get("sources")
    index = int(match.group(1))
    try:
        source, position = frames[index]
        source_name = sources[source]["name"]
    except (TypeError, IndexError, KeyError, ValueError):
        return None
    if isinstance(position, (int, float)) and not isinstance(position, bool):
        return f"{source_name} at {format_clock(position)}"
    return f"{source_name} {position}"


def open_dataset(path: str | os.PathLike) -> ImageDataset:
    return ImageDataset(path)
