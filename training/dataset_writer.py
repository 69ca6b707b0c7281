"""Writing a dataset zip in the layout of NVIDIA's dataset_tool.py, so it trains in their code as well as ours.

The layout: uncompressed (stored) zip members `00000/img00000000.png`, `00000/img00000001.png`, ... (the folder
is the first five digits of the eight-digit index, so 1000 images per folder) and a `dataset.json` whose
`labels` is null for unconditional data. Our provenance rides along in the same JSON under `likeness`; NVIDIA's
loader reads only `labels`, so it ignores it.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import PIL.Image

METADATA_NAME = "dataset.json"


def frame_name(index: int) -> str:
    digits = f"{index:08d}"
    return f"{digits[:5]}/img{digits}.png"


def encode_png(image: PIL.Image.Image, level: int) -> bytes:
    """PNG bytes at zlib `level` (0 = stored, as NVIDIA writes them; 1 = fast and about half the size)."""
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=level, optimize=False)
    return buf.getvalue()


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

    def finish(self, metadata: dict) -> None:
        self._zip.writestr(METADATA_NAME, json.dumps(metadata, ensure_ascii=False))
        self._zip.close()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "DatasetZipWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
