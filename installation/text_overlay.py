"""Lines of text as an RGBA image for the compositor's overlay (stats, warnings), drawn with Pillow's own font."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def text_image(lines: list[str], *, colour: tuple[int, int, int] = (255, 255, 255),
               box: tuple[int, int, int, int] = (0, 0, 0, 170), size: int = 14) -> np.ndarray:
    font = _font(size)
    pad, gap = 6, 3
    heights = [max(1, font.getbbox(line or " ")[3]) for line in lines]
    width = max(int(font.getlength(line)) for line in lines) + 2 * pad
    height = sum(heights) + gap * (len(lines) - 1) + 2 * pad
    image = Image.new("RGBA", (width, height), box)
    draw = ImageDraw.Draw(image)
    y = pad
    for line, h in zip(lines, heights):
        draw.text((pad, y), line, fill=(*colour, 255), font=font)
        y += h + gap
    return np.asarray(image)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size only
        return ImageFont.load_default()
