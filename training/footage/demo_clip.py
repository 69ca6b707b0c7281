"""A synthetic sitter: a procedurally drawn, face-like subject filmed as an H.264 clip.

It stands in for real footage wherever the project needs a sitter without a person: the bundled demo, tests, the
prepare benchmark and the first GAN runs. So it is structured like a portrait session rather than noise: one
identity (skin, hair, eyes, clothes chosen by the seed) that blinks, glances, talks a little, turns and tilts its
head, drifts in the frame and breathes, in front of a textured wall, under light that slowly changes direction,
brightness and colour. Everything is a smooth function of time and the seed, so a seed always gives the same clip.

Drawing uses PIL primitives (C code) with 2x supersampling for the head, so a 30 s clip at 640x360 renders in
seconds on one core.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.ImageChops
import PIL.ImageDraw
import PIL.ImageFilter

SKIN = [(241, 204, 178), (226, 180, 146), (198, 144, 108), (163, 112, 78), (120, 80, 56), (88, 58, 42)]
HAIR = [(24, 20, 18), (58, 38, 26), (96, 62, 36), (140, 70, 40), (196, 160, 100), (150, 146, 140)]
IRIS = [(82, 52, 30), (120, 90, 50), (70, 110, 70), (60, 100, 150), (110, 120, 130)]
CLOTH = [(40, 60, 110), (120, 30, 40), (40, 90, 70), (200, 190, 170), (30, 30, 34), (150, 110, 60)]
WALL = [((186, 170, 150), (150, 130, 110)), ((120, 140, 150), (90, 105, 120)), ((170, 120, 100), (130, 90, 80)),
        ((90, 100, 80), (60, 70, 55)), ((200, 200, 195), (160, 160, 158))]


@dataclass(frozen=True)
class Look:
    """The sitter's identity and the room, fixed by the seed."""

    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    iris: tuple[int, int, int]
    cloth: tuple[int, int, int]
    wall: tuple[tuple[int, int, int], tuple[int, int, int]]
    long_hair: bool
    face_width: float  # relative to the head radius
    phases: tuple[float, ...]  # phases of the slow motions
    blinks: tuple[float, ...]  # blink start times (s)
    glances: tuple[tuple[float, float, float], ...]  # (time, gaze x, gaze y)
    talk: tuple[tuple[float, float], ...]  # (start, end) of talking spells


def make_look(seed: int, duration: float) -> Look:
    rng = np.random.default_rng(seed)
    pick = lambda table: table[int(rng.integers(len(table)))]  # noqa: E731
    blinks, t = [], float(rng.uniform(0.5, 2.0))
    while t < duration + 5:
        blinks.append(t)
        t += float(rng.uniform(1.8, 5.5))
    glances, t = [], 0.0
    while t < duration + 5:
        glances.append((t, float(rng.uniform(-1, 1)), float(rng.uniform(-0.6, 0.6))))
        t += float(rng.uniform(0.6, 3.0))
    talk, t = [], float(rng.uniform(0.0, 3.0))
    while t < duration + 5:
        length = float(rng.uniform(1.0, 4.0))
        talk.append((t, t + length))
        t += length + float(rng.uniform(1.5, 6.0))
    return Look(
        skin=pick(SKIN), hair=pick(HAIR), iris=pick(IRIS), cloth=pick(CLOTH), wall=pick(WALL),
        long_hair=bool(rng.integers(2)), face_width=float(rng.uniform(0.72, 0.84)),
        phases=tuple(float(p) for p in rng.uniform(0, 2 * math.pi, 16)),
        blinks=tuple(blinks), glances=tuple(glances), talk=tuple(talk),
    )


@dataclass(frozen=True)
class Pose:
    """Everything that moves, at one moment."""

    yaw: float  # -1..1, turning towards the viewer's right for positive
    pitch: float  # -1..1, nodding down for positive
    roll: float  # degrees
    x: float  # head centre, fraction of the frame width
    y: float  # fraction of the frame height
    scale: float
    blink: float  # 0 open .. 1 closed
    gaze: tuple[float, float]
    mouth: float  # 0 closed .. 1 open
    smile: float  # -1..1
    brows: float  # 0..1 raised
    light_angle: float  # radians, direction the key light comes from
    exposure: float
    warmth: float  # -1 cool .. 1 warm


def _wave(t: float, period: float, phase: float) -> float:
    return math.sin(2 * math.pi * t / period + phase)


def pose_at(look: Look, t: float) -> Pose:
    p = look.phases
    blink = 0.0
    for start in look.blinks:
        if start <= t < start + 0.22:
            u = (t - start) / 0.22
            blink = 1.0 - abs(2 * u - 1)  # close and open again
            blink = min(1.0, blink * 1.6)
            break
    gaze = (0.0, 0.0)
    for when, gx, gy in look.glances:
        if when <= t:
            gaze = (gx, gy)
    mouth = 0.05
    for start, end in look.talk:
        if start <= t < end:
            mouth = 0.15 + 0.5 * max(0.0, math.sin(2 * math.pi * 3.1 * (t - start))) * abs(_wave(t, 0.7, p[0]))
    return Pose(
        yaw=0.55 * _wave(t, 11.0, p[1]) + 0.15 * _wave(t, 4.3, p[2]),
        pitch=0.22 * _wave(t, 7.7, p[3]),
        roll=6.0 * _wave(t, 9.1, p[4]),
        x=0.5 + 0.07 * _wave(t, 13.0, p[5]) + 0.02 * _wave(t, 3.7, p[6]),
        y=0.47 + 0.03 * _wave(t, 10.0, p[7]),
        scale=1.0 + 0.04 * _wave(t, 17.0, p[8]) + 0.01 * _wave(t, 4.0, p[9]),
        blink=blink,
        gaze=gaze,
        mouth=mouth,
        smile=0.6 * _wave(t, 14.0, p[10]),
        brows=max(0.0, _wave(t, 6.3, p[11])) ** 3,
        light_angle=math.pi * (0.25 + 0.5 * (0.5 + 0.5 * _wave(t, 19.0, p[12]))),
        exposure=1.0 + 0.12 * _wave(t, 12.0, p[13]),
        warmth=_wave(t, 23.0, p[14]),
    )


def _shade(colour, factor: float) -> tuple[int, int, int]:
    return tuple(int(max(0, min(255, c * factor))) for c in colour)


def _mix(a, b, w: float) -> tuple[int, int, int]:
    return tuple(int(round(x * (1 - w) + y * w)) for x, y in zip(a, b))


def make_wall(look: Look, width: int, height: int, seed: int) -> PIL.Image.Image:
    """A textured wall a little larger than the frame (the camera drifts over it): plaster noise, a faint
    wallpaper pattern and two soft rectangles (a frame, a door) for large-scale structure."""
    rng = np.random.default_rng(seed + 1)
    w, h = int(width * 1.2), int(height * 1.2)
    light, dark = (np.array(c, np.float32) for c in look.wall)
    coarse = PIL.Image.fromarray((rng.random((8, 14)) * 255).astype(np.uint8)).resize((w, h), PIL.Image.BICUBIC)
    grain = PIL.Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))
    fine = np.asarray(grain.filter(PIL.ImageFilter.GaussianBlur(1.2)), np.float32) / 32 - 4
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = max(6.0, h / 18)
    pattern = 0.5 + 0.5 * np.sin((xx + yy) * 2 * math.pi / period) * np.sin((xx - yy) * 2 * math.pi / period)
    mix = 0.55 * np.asarray(coarse, np.float32) / 255 + 0.25 * pattern + 0.08 * fine + 0.25 * (yy / h)
    mix = np.clip(mix, 0, 1)[..., None]
    wall = light * (1 - mix) + dark * mix
    image = PIL.Image.fromarray(np.clip(wall, 0, 255).astype(np.uint8))
    draw = PIL.ImageDraw.Draw(image)
    for _ in range(2):
        x0, y0 = rng.uniform(0, 0.8) * w, rng.uniform(0, 0.5) * h
        x1, y1 = x0 + rng.uniform(0.15, 0.3) * w, y0 + rng.uniform(0.3, 0.6) * h
        edge = _shade(look.wall[1], 0.7)
        draw.rectangle([x0, y0, x1, y1], outline=edge, width=max(2, h // 90))
    return image.filter(PIL.ImageFilter.GaussianBlur(max(0.6, h / 500)))


def _vignette(width: int, height: int) -> PIL.Image.Image:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = ((xx / width - 0.5) * 1.6) ** 2 + ((yy / height - 0.5) * 1.9) ** 2
    return PIL.Image.fromarray((255 * np.clip(1.0 - 0.35 * r2, 0, 1)).astype(np.uint8), mode="L")


class SitterRenderer:
    """Renders frames of one look at one size; holds the precomputed wall, vignette and sensor noise."""

    def __init__(self, look: Look, width: int, height: int, seed: int, grain: int = 2):
        self.look, self.width, self.height, self.grain = look, width, height, grain
        self.wall = make_wall(look, width, height, seed)
        vignette = _vignette(width, height)
        self.vignette = PIL.Image.merge("RGB", (vignette, vignette, vignette))
        rng = np.random.default_rng(seed + 2)
        self.noise = [PIL.Image.fromarray(rng.integers(0, 2 * grain + 1, (height, width, 3), dtype=np.uint8))
                      for _ in range(4)]
        self.supersample = 2 if height <= 720 else 1

    def frame(self, index: int, t: float) -> np.ndarray:
        pose = pose_at(self.look, t)
        w, h = self.width, self.height
        ww, wh = self.wall.size
        # the camera drifts a little against the sitter: the wall moves a fraction of the head's drift
        dx = (ww - w) / 2 - (pose.x - 0.5) * 0.25 * w
        dy = (wh - h) / 2 - (pose.y - 0.47) * 0.25 * h
        image = self.wall.crop((int(dx), int(dy), int(dx) + w, int(dy) + h))
        radius = 0.22 * h * pose.scale
        cx, cy = pose.x * w, pose.y * h
        self._body(image, pose, cx, cy, radius)
        head, origin = self._head(pose, radius)
        image.paste(head, (int(round(cx - origin)), int(round(cy - origin))), head)
        image = PIL.ImageChops.multiply(image, self.vignette)
        image = image.point(self._light_table(pose))
        image = PIL.ImageChops.add(image, self.noise[index % len(self.noise)], scale=1.0, offset=-self.grain)
        return np.asarray(image)

    def _light_table(self, pose: Pose) -> list[int]:
        gains = (pose.exposure * (1 + 0.06 * pose.warmth), pose.exposure, pose.exposure * (1 - 0.08 * pose.warmth))
        table = []
        for gain in gains:
            table += [min(255, int(v * gain * 1.08 + 0.5)) for v in range(256)]
        return table

    def _body(self, image: PIL.Image.Image, pose: Pose, cx: float, cy: float, r: float) -> None:
        look, h = self.look, self.height
        draw = PIL.ImageDraw.Draw(image)
        bx = 0.5 * self.width + 0.6 * (cx - 0.5 * self.width)
        if look.long_hair:
            draw.rounded_rectangle([cx - 1.05 * r, cy - 0.2 * r, cx + 1.05 * r, cy + 2.0 * r], radius=0.5 * r,
                                   fill=_shade(look.hair, 0.8))
        draw.rectangle([cx - 0.32 * r, cy + 0.6 * r, cx + 0.32 * r, cy + 1.6 * r], fill=_shade(look.skin, 0.78))
        draw.ellipse([bx - 2.1 * r, cy + 1.35 * r, bx + 2.1 * r, cy + 1.35 * r + 2.4 * r], fill=look.cloth)
        draw.polygon([(cx - 0.42 * r, cy + 1.38 * r), (cx + 0.42 * r, cy + 1.38 * r), (cx, cy + 1.95 * r)],
                     fill=_shade(look.skin, 0.85))
        draw.line([(bx - 1.2 * r, h), (bx - 0.9 * r, cy + 1.7 * r)], fill=_shade(look.cloth, 0.75),
                  width=max(1, int(r / 25)))

    def _head(self, pose: Pose, radius: float) -> tuple[PIL.Image.Image, float]:
        """The head as an RGBA layer: drawn large (supersampled) through a rotated pen, shaded, then reduced."""
        look, ss = self.look, self.supersample
        r = radius * ss
        size = int(2.9 * r) // 2 * 2
        c = size / 2
        layer = PIL.Image.new("RGBA", (size, size), (0, 0, 0, 0))
        pen = TurnedPen(layer, c, pose.roll)
        yaw, pitch = pose.yaw, pose.pitch
        a, b = r * look.face_width * (1 - 0.08 * abs(yaw)), r
        fx = c + yaw * 0.1 * r  # face outline centre
        px, py = c + yaw * 0.34 * r, c + pitch * 0.22 * r  # where the features sit
        skin, hair = look.skin, look.hair
        # hair behind, ears, face
        pen.ellipse(fx, c - b * 0.28, a * 1.13, b * 0.84, hair)
        for side in (-1, 1):
            ex = fx + side * a * 0.97 - yaw * 0.25 * r
            visible = 1 - 0.7 * max(0.0, side * yaw)
            pen.ellipse(ex, py - 0.01 * r, 0.12 * r * visible, 0.15 * r, _shade(skin, 0.88))
        pen.ellipse(fx, c, a, b, skin)
        # cheeks
        for side in (-1, 1):
            x = px + side * 0.42 * r * (1 - 0.4 * max(0.0, side * yaw))
            pen.sprite(self._blush(r), x, py + 0.22 * r)
        # fringe: the upper half of an ellipse over the forehead
        fringe_low = c - b * 0.05 + pitch * 0.1 * r
        pen.arc_fill(fx, (c - b * 1.08 + fringe_low) / 2, a * 1.1, (fringe_low - (c - b * 1.08)) / 2, hair)
        # brows and eyes
        for side in (-1, 1):
            squeeze = 1 - 0.45 * max(0.0, side * yaw)
            ex = px + side * 0.34 * r * squeeze
            ey = py - 0.1 * r
            self._eye(pen, ex, ey, 0.16 * r * squeeze, 0.085 * r, pose)
            lift = (0.22 + 0.06 * pose.brows) * r
            pen.line([(ex - 0.17 * r * squeeze, ey - lift), (ex + 0.17 * r * squeeze, ey - lift - 0.03 * r * side)],
                     _shade(hair, 0.9), max(2, int(0.045 * r)))
        # nose
        nx = px + yaw * 0.12 * r
        pen.line([(nx, py - 0.05 * r), (nx + 0.05 * r * (1 if yaw >= 0 else -1), py + 0.2 * r),
                  (nx - 0.03 * r, py + 0.24 * r)], _shade(skin, 0.8), max(2, int(0.03 * r)))
        for side in (-1, 1):
            pen.ellipse(nx + side * 0.07 * r, py + 0.25 * r, 0.03 * r, 0.02 * r, _shade(skin, 0.55))
        self._mouth(pen, px + yaw * 0.05 * r, py + 0.46 * r, r, pose)
        # key light: darken the side of the head away from the light, smoothly
        rgb = PIL.ImageChops.multiply(layer.convert("RGB"), self._lighting(size, pose.light_angle))
        layer = PIL.Image.merge("RGBA", (*rgb.split(), layer.getchannel("A")))
        if ss > 1:
            layer = layer.reduce(ss)
        return layer, layer.size[0] / 2

    def _blush(self, r: float) -> PIL.Image.Image:
        """A soft red patch for the cheeks, blurred once per size."""
        key = int(r)
        if getattr(self, "_blush_key", None) != key:
            side = int(0.6 * r)
            sprite = PIL.Image.new("RGBA", (side, side), (210, 90, 90, 0))
            alpha = PIL.Image.new("L", (side, side), 0)
            PIL.ImageDraw.Draw(alpha).ellipse([side * 0.25, side * 0.33, side * 0.75, side * 0.67], fill=40)
            sprite.putalpha(alpha.filter(PIL.ImageFilter.GaussianBlur(0.08 * r)))
            self._blush_key, self._blush_sprite = key, sprite
        return self._blush_sprite

    @staticmethod
    def _lighting(size: int, angle: float) -> PIL.Image.Image:
        yy, xx = np.mgrid[-1:1:24j, -1:1:24j]
        lit = 0.82 + 0.18 * (xx * math.cos(angle) - yy * math.sin(angle) * 0.5)
        small = PIL.Image.fromarray((255 * np.clip(lit, 0, 1)).astype(np.uint8))
        grey = small.resize((size, size), PIL.Image.BILINEAR)
        return PIL.Image.merge("RGB", (grey, grey, grey))

    def _eye(self, pen: "TurnedPen", x: float, y: float, hw: float, hh: float, pose: Pose) -> None:
        look = self.look
        lid = hh * max(0.0, 1.0 - pose.blink)
        lash = _shade(look.hair, 0.6)
        if lid > 0.5:
            gx, gy = pose.gaze[0] * 0.45 * hw + pose.yaw * 0.3 * hw, pose.gaze[1] * 0.4 * hh
            ir = 0.85 * hh
            # the iris is clipped by the open lids: draw it as the part of its circle inside the eye
            pen.ellipse(x, y + (hh - lid) / 2, hw, (hh + lid) / 2, (236, 232, 226))
            pen.clipped_disc(x + gx, y + gy, ir, look.iris, x, y + (hh - lid) / 2, hw, (hh + lid) / 2)
            pen.clipped_disc(x + gx, y + gy, ir * 0.45, (12, 10, 10), x, y + (hh - lid) / 2, hw, (hh + lid) / 2)
            pen.ellipse(x + gx - ir * 0.4, y + gy - ir * 0.45, ir * 0.15, ir * 0.15, (250, 250, 250))
            top = y - lid
        else:
            top = y + hh * 0.2
        pen.line([(x - hw, y), (x, top), (x + hw, y)], lash, max(1, int(hh * 0.3)))

    def _mouth(self, pen: "TurnedPen", x: float, y: float, r: float, pose: Pose) -> None:
        look = self.look
        mw = 0.22 * r * (1 - 0.2 * abs(pose.yaw))
        lips = _mix(_shade(look.skin, 0.78), (170, 60, 70), 0.45)
        opening = pose.mouth * 0.11 * r
        curve = pose.smile * 0.05 * r
        pen.ellipse(x, y + 0.0025 * r, mw, 0.0475 * r + opening / 2, lips)
        if opening > 0.012 * r:
            pen.ellipse(x, y, mw * 0.75, opening / 2, (60, 20, 25))
            if pose.mouth > 0.35:
                pen.polygon([(x - mw * 0.5, y - opening / 2), (x + mw * 0.5, y - opening / 2),
                             (x + mw * 0.5, y - opening / 4), (x - mw * 0.5, y - opening / 4)], (230, 226, 215))
        pen.line([(x - mw, y - curve), (x, y + 0.01 * r), (x + mw, y - curve)], _shade(lips, 0.6),
                 max(1, int(0.02 * r)))


class TurnedPen:
    """ImageDraw through a rotation about (c, c): shapes are given upright and land turned by `degrees`
    (counter-clockwise on screen), so the head tilts without resampling the whole layer."""

    STEPS = 48

    def __init__(self, image: PIL.Image.Image, c: float, degrees: float):
        self.image = image
        self.draw = PIL.ImageDraw.Draw(image)
        self.c = c
        angle = math.radians(degrees)
        self.cos, self.sin = math.cos(angle), math.sin(angle)

    def point(self, x: float, y: float) -> tuple[float, float]:
        dx, dy = x - self.c, y - self.c
        return self.c + dx * self.cos + dy * self.sin, self.c - dx * self.sin + dy * self.cos

    def _ellipse_points(self, cx, cy, rx, ry, start=0.0, end=2 * math.pi, steps=STEPS):
        return [self.point(cx + rx * math.cos(t), cy + ry * math.sin(t))
                for t in np.linspace(start, end, steps, endpoint=end - start < 2 * math.pi)]

    def ellipse(self, cx, cy, rx, ry, fill) -> None:
        self.draw.polygon(self._ellipse_points(cx, cy, rx, ry), fill=fill)

    def arc_fill(self, cx, cy, rx, ry, fill) -> None:
        """The upper half of an ellipse, closed by its horizontal diameter."""
        self.draw.polygon(self._ellipse_points(cx, cy, rx, ry, math.pi, 2 * math.pi, self.STEPS // 2 + 1), fill=fill)

    def clipped_disc(self, cx, cy, radius, fill, ex, ey, erx, ery) -> None:
        """A disc cut to the ellipse (ex, ey, erx, ery): points of the disc outline pulled inside the ellipse."""
        points = []
        for t in np.linspace(0, 2 * math.pi, 32, endpoint=False):
            x, y = cx + radius * math.cos(t), cy + radius * math.sin(t)
            k = ((x - ex) / erx) ** 2 + ((y - ey) / ery) ** 2
            if k > 1:
                x, y = ex + (x - ex) / math.sqrt(k), ey + (y - ey) / math.sqrt(k)
            points.append(self.point(x, y))
        self.draw.polygon(points, fill=fill)

    def polygon(self, points, fill) -> None:
        self.draw.polygon([self.point(x, y) for x, y in points], fill=fill)

    def line(self, points, fill, width: int) -> None:
        self.draw.line([self.point(x, y) for x, y in points], fill=fill, width=width, joint="curve")

    def sprite(self, sprite: PIL.Image.Image, cx: float, cy: float) -> None:
        x, y = self.point(cx, cy)
        self.image.alpha_composite(sprite, (int(x - sprite.size[0] / 2), int(y - sprite.size[1] / 2)))


def write_demo_clip(path: str | os.PathLike, *, duration: float = 30.0, width: int = 640, height: int = 360,
                    fps: Fraction | int = 30, seed: int = 0, crf: int = 20, preset: str = "veryfast",
                    grain: int = 2, progress: bool = False) -> Path:
    """Render and encode the clip (H.264 yuv420p in mp4) to `path`, written whole or not at all.

    `grain` is the amplitude of the sensor noise (grey levels): more grain, more bitrate, as with a real camera.
    """
    import av

    from training.atomic import atomic_output

    if width % 2 or height % 2 or width < 64 or height < 64:
        raise ValueError("width and height must be even and at least 64 (H.264 4:2:0)")
    fps = Fraction(fps)
    count = max(1, int(round(duration * fps)))
    look = make_look(seed, duration)
    renderer = SitterRenderer(look, width, height, seed, grain=grain)
    path = Path(path)
    with atomic_output(path, force=True) as tmp:
        with av.open(str(tmp), "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": preset,
                                                                         "g": str(int(2 * fps))})
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.time_base = 1 / fps
            frames = range(count)
            if progress:
                from tqdm import tqdm

                frames = tqdm(frames, unit="frame", desc="render", dynamic_ncols=True, disable=None)
            for i in frames:
                frame = av.VideoFrame.from_ndarray(renderer.frame(i, float(i / fps)), format="rgb24")
                frame.pts = i
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return path
