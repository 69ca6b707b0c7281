"""A folder of stills (an exported image sequence, a photographer's selects) as the frames of a dataset.

Files are taken in natural order (img2 before img10), the way an image sequence is numbered, and EXIF
orientation is honoured as a phone's rotation flag is for video.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import PIL.Image
import PIL.ImageOps

from training.errors import DataError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm"})
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> list:
    """'img10.png' after 'img9.png': digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name)]


def list_images(folder: Path) -> list[Path]:
    """Image files under `folder` (subfolders included, hidden files skipped), in natural order."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                found.append(Path(root) / name)
    found.sort(key=lambda p: natural_key(p.relative_to(folder).as_posix()))
    if not found:
        raise DataError(f"{folder} holds no images ({', '.join(sorted(s[1:] for s in IMAGE_SUFFIXES))}); "
                        "check the folder, or give video files instead")
    return found


def _exif_turns(image: PIL.Image.Image) -> bool:
    """Orientations 5-8 swap width and height."""
    try:
        return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the orientation flag
        return False


def displayed_size(path: Path) -> tuple[int, int]:
    """Width and height as the image is shown (after EXIF orientation), reading only the header."""
    try:
        with PIL.Image.open(path) as image:
            width, height = image.size
            return (height, width) if _exif_turns(image) else (width, height)
    except (OSError, ValueError, PIL.Image.DecompressionBombError) as err:
        raise DataError(f"{path} does not open as an image ({err}); remove it or replace it") from err


def common_size(paths: list[Path]) -> tuple[int, int]:
    """The one size all images share; a dataset from mixed sizes would be cropped inconsistently."""
    first = displayed_size(paths[0])
    for path in paths[1:]:
        size = displayed_size(path)
        if size != first:
            raise DataError(f"images differ in size: {paths[0].name} is {first[0]}x{first[1]} but {path.name} is "
                            f"{size[0]}x{size[1]}; give a folder whose images all have one size")
    return first


def load_rgb(path: Path) -> PIL.Image.Image:
    """The image as shown (EXIF orientation applied), in RGB."""
    try:
        with PIL.Image.open(path) as image:
            image = PIL.ImageOps.exif_transpose(image)
            return image.convert("RGB")
    except (OSError, ValueError, PIL.Image.DecompressionBombError) as err:
        raise DataError(f"{path} does not decode as an image ({err}); remove it or replace it") from err
