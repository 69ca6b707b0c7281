"""The compositor: every window of a frame in one instanced draw call from one texture array.

Each instance is a quad in output pixels with either a layer of the texture array (a portrait, sampled
bilinearly) or a solid colour (film base, sprocket holes), and an alpha for crossfades. The frame's global fade
multiplies everything, background included, so fade-to-black is one uniform. Portraits of different levels of
detail share the array: a level-r image sits in the top-left r x r texels of its layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import moderngl
import numpy as np

from installation.layouts import RGBA, Rect

VERTEX = """
#version 330
in vec2 corner;
in vec4 rect;
in vec4 uv_rect;
in float layer;
in vec4 colour;
uniform vec2 viewport;
out vec2 uv;
flat out float v_layer;
flat out vec4 v_colour;
void main() {
    vec2 p = rect.xy + corner * rect.zw;
    gl_Position = vec4(p.x / viewport.x * 2.0 - 1.0, 1.0 - p.y / viewport.y * 2.0, 0.0, 1.0);
    uv = mix(uv_rect.xy, uv_rect.zw, corner);
    v_layer = layer;
    v_colour = colour;
}
"""

FRAGMENT = """
#version 330
uniform sampler2DArray images;
uniform float fade;
in vec2 uv;
flat in float v_layer;
flat in vec4 v_colour;
out vec4 out_colour;
void main() {
    vec4 c = v_layer < 0.0 ? v_colour : vec4(texture(images, vec3(uv, v_layer)).rgb, v_colour.a);
    out_colour = vec4(c.rgb * fade, c.a);
}
"""

OVERLAY_VERTEX = """
#version 330
in vec2 corner;
uniform vec4 rect;
uniform vec2 viewport;
out vec2 uv;
void main() {
    vec2 p = rect.xy + corner * rect.zw;
    gl_Position = vec4(p.x / viewport.x * 2.0 - 1.0, 1.0 - p.y / viewport.y * 2.0, 0.0, 1.0);
    uv = corner;
}
"""

OVERLAY_FRAGMENT = """
#version 330
uniform sampler2D overlay;
uniform float alpha;
uniform bool flip;
in vec2 uv;
out vec4 out_colour;
void main() {
    vec4 c = texture(overlay, flip ? vec2(uv.x, 1.0 - uv.y) : uv);
    out_colour = vec4(c.rgb, c.a * alpha);
}
"""

INSTANCE_FLOATS = 13  # rect 4, uv_rect 4, layer 1, colour 4


@dataclass
class Quad:
    rect: Rect
    layer: int = -1  # -1: solid colour
    level: int = 0  # side of the image in its layer, in texels
    colour: RGBA = (1.0, 1.0, 1.0, 1.0)  # alpha is the crossfade weight for images


class Compositor:
    """Draws quads into whatever framebuffer is bound; owns the texture array the portraits are uploaded into."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=VERTEX, fragment_shader=FRAGMENT)
        self.corners = ctx.buffer(np.array([0, 0, 1, 0, 0, 1, 1, 1], dtype="f4").tobytes())
        self.instances = ctx.buffer(reserve=INSTANCE_FLOATS * 4 * 64, dynamic=True)
        self.vao = self._vertex_array()
        self.overlay_program = ctx.program(vertex_shader=OVERLAY_VERTEX, fragment_shader=OVERLAY_FRAGMENT)
        self.overlay_vao = ctx.vertex_array(self.overlay_program, [(self.corners, "2f", "corner")])
        self.overlay_texture: moderngl.Texture | None = None
        self.array: moderngl.TextureArray | None = None
        self.side = 0
        self.layers = 0
        self.components = 3  # 4 for CUDA-OpenGL interop (CUDA registers RGBA8 images only)
        self.generation = 0  # counts the arrays made

    def _vertex_array(self) -> moderngl.VertexArray:
        return self.ctx.vertex_array(self.program, [
            (self.corners, "2f", "corner"),
            (self.instances, "4f 4f 1f 4f/i", "rect", "uv_rect", "layer", "colour"),
        ])

    def reallocates(self, side: int, layers: int, components: int | None = None) -> bool:
        """Whether `reserve` with these would delete the array and make a new one."""
        if self.array is None:
            return False
        changed = components is not None and components != self.components
        return changed or side > self.side or layers > self.layers

    def reserve(self, side: int, layers: int, components: int | None = None) -> None:
        """Make sure the array holds `layers` images of up to side x side; it only ever grows (no churn). Each new
        array gets a new `generation`, which is how an interop registration knows it is stale."""
        if components is not None and components != self.components:
            self.components = components
            if self.array is not None:
                self.array.release()
                self.array = None
        if self.array is not None and side <= self.side and layers <= self.layers:
            return
        side, layers = max(side, self.side), max(layers, self.layers, 1)
        if self.array is not None:
            self.array.release()
        self.array = self.ctx.texture_array((side, side, layers), self.components, dtype="f1")
        self.generation += 1
        self.array.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self.array.repeat_x = self.array.repeat_y = False
        self.side, self.layers = side, layers

    def upload(self, layer: int, pixels: np.ndarray) -> None:
        """An r x r x components uint8 image into the top-left of a layer (host memory path)."""
        r = pixels.shape[0]
        self.array.write(np.ascontiguousarray(pixels).tobytes(), viewport=(0, 0, layer, r, r, 1), alignment=1)

    def draw(self, quads: list[Quad], viewport: tuple[int, int], background: tuple[float, float, float],
             fade: float) -> None:
        width, height = viewport
        self.ctx.viewport = (0, 0, width, height)
        f = float(np.clip(fade, 0.0, 1.0))
        self.ctx.clear(background[0] * f, background[1] * f, background[2] * f, 1.0)
        if not quads:
            return
        data = np.empty((len(quads), INSTANCE_FLOATS), dtype="f4")
        for i, q in enumerate(quads):
            s = q.level / self.side if q.layer >= 0 and self.side else 0.0
            data[i] = (*q.rect, 0.0, 0.0, s, s, float(q.layer), *q.colour)
        raw = data.tobytes()
        if len(raw) > self.instances.size:
            self.instances.orphan(len(raw) * 2)
        self.instances.write(raw)
        self._blend_over()
        if self.array is None:
            self.reserve(4, 1)
        self.array.use(0)
        self.program["images"].value = 0
        self.program["viewport"].value = (float(width), float(height))
        self.program["fade"].value = f
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=len(quads))

    def draw_overlay(self, rgba: np.ndarray, x: int, y: int, viewport: tuple[int, int]) -> None:
        """Text and warnings (h x w x 4 uint8, drawn 1:1 at x, y over the frame, not faded)."""
        h, w = rgba.shape[:2]
        if self.overlay_texture is None or self.overlay_texture.size != (w, h):
            if self.overlay_texture is not None:
                self.overlay_texture.release()
            self.overlay_texture = self.ctx.texture((w, h), 4, dtype="f1")
            self.overlay_texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.overlay_texture.write(np.ascontiguousarray(rgba).tobytes(), alignment=1)
        self.draw_texture(self.overlay_texture, (x, y, w, h), viewport)

    def draw_texture(self, texture: moderngl.Texture, rect: Rect, viewport: tuple[int, int], *, alpha: float = 1.0,
                     rendered: bool = False) -> None:
        """A texture as one quad over what is drawn; `rendered`: it was drawn by us (GL rows run bottom up)."""
        self._blend_over()
        texture.use(1)
        self.overlay_program["overlay"].value = 1
        self.overlay_program["alpha"].value = float(alpha)
        self.overlay_program["flip"].value = bool(rendered)
        self.overlay_program["rect"].value = tuple(float(v) for v in rect)
        self.overlay_program["viewport"].value = (float(viewport[0]), float(viewport[1]))
        self.overlay_vao.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def _blend_over(self) -> None:
        """Colour over what is drawn by its alpha; alpha itself adds up as coverage (a + (1 - a) x below), so a
        frame drawn into the crossfade's scratch buffer stays opaque and blends by the crossfade weight alone."""
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = (moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA, moderngl.ONE,
                               moderngl.ONE_MINUS_SRC_ALPHA)

    def release(self) -> None:
        for obj in (self.vao, self.overlay_vao, self.instances, self.corners, self.program, self.overlay_program,
                    self.array, self.overlay_texture):
            if obj is not None:
                obj.release()
