"""From a decoded picture to a square, power-of-two dataset frame: centred (or moved) crop, or letterbox.

Geometry is worked out once per picture shape in display coordinates (after rotation, with square pixels) and
turned into one Lanczos resize of a sub-pixel box of the *coded* picture, followed by a cheap rotation of the
small result. Rotating a 4K phone frame before cropping would cost more than the resize itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import PIL.Image

FITS = ("crop", "letterbox")
MIN_SIZE, MAX_SIZE = 4, 2048

# PIL transposes that turn a coded picture counter-clockwise by the key (degrees) for display.
_TRANSPOSE = {
    90: PIL.Image.Transpose.ROTATE_90,
    180: PIL.Image.Transpose.ROTATE_180,
    270: PIL.Image.Transpose.ROTATE_270,
}


def check_size(size: int) -> None:
    """StyleGAN2 builds one block per octave: the side must be a power of two."""
    if not (MIN_SIZE <= size <= MAX_SIZE and size & (size - 1) == 0):
        raise ValueError(f"{size} is not a power of two from {MIN_SIZE} to {MAX_SIZE} "
                         "(4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)")


@dataclass(frozen=True)
class FramePlan:
    """How to turn one picture shape into an output frame."""

    size: int
    box: tuple[float, float, float, float]  # region of the coded picture, in coded pixels
    resize_to: tuple[int, int]  # size of the resized region, still in coded orientation
    rotation: int  # counter-clockwise degrees applied after resizing
    content: tuple[int, int, int, int]  # where the picture lands in the output (left, top, right, bottom)
    upscale: bool  # the output has more pixels across than the source region: detail is invented, not kept

    def apply(self, image: PIL.Image.Image) -> PIL.Image.Image:
        out = image.resize(self.resize_to, PIL.Image.Resampling.LANCZOS, box=self.box)
        if self.rotation:
            out = out.transpose(_TRANSPOSE[self.rotation])
        left, top, right, bottom = self.content
        if (left, top, right, bottom) == (0, 0, self.size, self.size):
            return out
        canvas = PIL.Image.new(out.mode, (self.size, self.size), 0)  # exact black bars
        canvas.paste(out, (left, top))
        return canvas


def _to_coded(x: float, y: float, rotation: int, wq: float, hq: float) -> tuple[float, float]:
    """A display point back to the coded picture (square-pixel units), undoing a counter-clockwise turn."""
    if rotation == 90:
        return wq - y, x
    if rotation == 180:
        return wq - x, hq - y
    if rotation == 270:
        return y, hq - x
    return x, y


def plan_frame(width: int, height: int, *, fit: str, size: int, center: tuple[float, float] = (0.5, 0.5),
               rotation: int = 0, sample_aspect: Fraction = Fraction(1)) -> FramePlan:
    """Plan the output for a coded `width` x `height` picture shown turned by `rotation` (counter-clockwise)."""
    if fit not in FITS:
        raise ValueError(f"unknown fit {fit!r}; use one of {', '.join(FITS)}")
    check_size(size)
    sar = float(sample_aspect) if sample_aspect and sample_aspect > 0 else 1.0
    wq, hq = width * sar, float(height)  # coded picture in square-pixel units
    wd, hd = (hq, wq) if rotation % 180 else (wq, hq)  # as displayed
    if fit == "crop":
        side = min(wd, hd)
        left = min(max(center[0] * wd - side / 2, 0.0), wd - side)
        top = min(max(center[1] * hd - side / 2, 0.0), hd - side)
        corners = [_to_coded(x, y, rotation, wq, hq) for x, y in ((left, top), (left + side, top + side))]
        x0, x1 = sorted(c[0] / sar for c in corners)
        y0, y1 = sorted(c[1] for c in corners)
        return FramePlan(size, (x0, y0, x1, y1), (size, size), rotation, (0, 0, size, size),
                         upscale=size > min(x1 - x0, y1 - y0) * 1.0001)
    scale = size / max(wd, hd)
    cw, ch = max(1, min(size, round(wd * scale))), max(1, min(size, round(hd * scale)))
    left, top = (size - cw) // 2, (size - ch) // 2
    resize_to = (ch, cw) if rotation % 180 else (cw, ch)
    return FramePlan(size, (0.0, 0.0, float(width), float(height)), resize_to, rotation,
                     (left, top, left + cw, top + ch), upscale=scale > 1.0001)


def parse_center(text: str) -> tuple[float, float]:
    """'0.5,0.4' to (0.5, 0.4); both in [0, 1] (0,0 is the top-left corner of the displayed picture)."""
    parts = text.replace(" ", "").split(",")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not two numbers X,Y")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"{text!r} is not two numbers X,Y") from None
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise ValueError(f"{text!r} is outside 0..1; X,Y are fractions of the picture's width and height")
    return x, y
