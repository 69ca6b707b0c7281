"""Writing a dataset zip in the layout of NVIDIA's dataset_tool.py, so it trains in their code as well as ours.

The layout: uncompressed (stored) zip members `00000/img00000000.png`, `00000/img00000001.png`, ... (the folder
is the first five digits of the eight-digit index, so 1000 images per folder) and a `dataset.json` whose
`labels` is null for unconditional data. Our provenance rides along in the same JSON under `likeness`; NVIDIA's
loader reads only `labels`, so it ignores it.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib

import numpy as np
import PIL.Image

METADATA_NAME = "dataset.json"


def frame_name(index: int) -> str:
    digits = f"{index:08d}"
    return f"{digits[:5]}/img{digits}.png"


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 3: 2}  # grey, RGB
_FILTER_NONE, _FILTER_UP = 0, 2


def _chunk(kind: bytes, data) -> bytes:
    return struct.pack(">I", len(data)) + kind + bytes(data) + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def encode_png(image: PIL.Image.Image | np.ndarray, level: int) -> bytes:
    """8-bit grey or RGB PNG bytes at zlib `level` (0: stored, as NVIDIA writes them).

    Written here rather than by PIL because PIL tries every PNG row filter on every row, which costs more than
    the compression itself; the "Up" filter (each row minus the one above), computed with numpy, gives files as
    small on footage at twice the speed. Any PNG decoder reads the result.
    """
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError("encode_png takes 8-bit grey or RGB images")
    height, width = array.shape[:2]
    channels = 1 if array.ndim == 2 else array.shape[2]
    if channels not in _COLOUR_TYPE:
        raise ValueError("encode_png takes 8-bit grey or RGB images")
    pixels = array.reshape(height, width * channels)
    rows = np.empty((height, width * channels + 1), np.uint8)
    if level > 0:
        rows[:, 0] = _FILTER_UP
        rows[0, 1:] = pixels[0]
        np.subtract(pixels[1:], pixels[:-1], out=rows[1:, 1:])  # modulo 256, as the filter is defined
    else:
        rows[:, 0] = _FILTER_NONE
        rows[:, 1:] = pixels
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0)
    return b"".join((_PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(rows, level)),
                     _chunk(b"IEND", b"")))


class DatasetZipWriter:
    """Frames in order, then the metadata; the zip is only valid once `finish` has run."""

    def __init__(self, path: str | os.PathLike):
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self.count = 0
        self.bytes = 0

    def add(self, png: bytes) -> str:
        name = frame_name(self.count)
        self._zip.writestr(name, png)
        self.count += 1
        self.bytes += len(png)
        return name

    def add_side_file(self, name: str, data: bytes) -> None:
        """A non-image member (e.g. per-frame crop boxes); loaders that list images by suffix pass over it."""
        self._zip.writestr(name, data)

    def finish(self, metadata: dict) -> None:
        self._zip.writestr(METADATA_NAME, json.dumps(metadata, ensure_ascii=False))
        self._zip.close()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "DatasetZipWriter":
        return self

    def __exit__(self, kind, *exc) -> None:
        if kind is None:
            self.close()
            return
        try:
            self.close()
        except OSError:
            pass  # the zip is thrown away anyway; one error (the first, e.g. a full disk) is enough
