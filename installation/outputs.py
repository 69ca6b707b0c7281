"""Where frames go: an offscreen EGL framebuffer read back as RGB, or a GLFW window on a chosen monitor.

Both give the compositor an OpenGL 3.3+ context and a framebuffer of the output size; the same draw calls fill
either, so a window shows the pixels an export writes. Headless machines use EGL (NVIDIA's driver on a GPU, Mesa's
llvmpipe on a CPU); a windowed run needs a display (under X, or Xvfb for tests).
"""

from __future__ import annotations

import logging

import numpy as np

from training.errors import UsageError

log = logging.getLogger("likeness.render")

EGL_HINT = ("install the EGL loader and a driver (Debian/Ubuntu: apt-get install libegl1 libgl1; on a GPU machine "
            "the NVIDIA driver provides libEGL_nvidia)")


def egl_context():
    """A standalone OpenGL 3.3 core context through EGL, or one line saying what to install."""
    import moderngl

    try:
        return moderngl.create_standalone_context(require=330, backend="egl")
    except Exception as err:
        raise UsageError(f"no OpenGL through EGL ({str(err).splitlines()[0] if str(err) else type(err).__name__}); "
                         f"{EGL_HINT}") from None


class OffscreenOutput:
    """A colour framebuffer of width x height in its own EGL context."""

    def __init__(self, width: int, height: int, ctx=None):
        self.ctx = ctx or egl_context()
        self.size = (width, height)
        self.fbo = self.ctx.simple_framebuffer((width, height), components=4)

    def begin(self) -> None:
        self.fbo.use()

    def finish(self) -> None:
        """Nothing to present; the frame stays in the framebuffer until read."""

    def read_rgb(self) -> np.ndarray:
        """The frame as height x width x 3 uint8, top row first."""
        width, height = self.size
        raw = self.fbo.read(components=3, alignment=1)
        return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)[::-1].copy()

    def release(self) -> None:
        self.fbo.release()


PRESENT_VERTEX = """
#version 330
out vec2 uv;
void main() {
    vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1);
    uv = corner;
    gl_Position = vec4(corner * 2.0 - 1.0, 0.0, 1.0);
}
"""
PRESENT_FRAGMENT = """
#version 330
uniform sampler2D frame;
in vec2 uv;
out vec4 colour;
void main() { colour = vec4(texture(frame, uv).rgb, 1.0); }
"""


def fit_inside(screen: tuple[int, int], picture: tuple[int, int]) -> tuple[int, int, int, int]:
    """The largest rectangle of the picture's aspect centred in the screen (x, y, width, height in pixels): a
    1920x1080 show on a 1920x1200 projector gets bars above and below, never a stretch."""
    (sw, sh), (pw, ph) = screen, picture
    scale = min(sw / pw, sh / ph)
    width, height = max(1, min(sw, round(pw * scale))), max(1, min(sh, round(ph * scale)))
    return (sw - width) // 2, (sh - height) // 2, width, height


class WindowOutput:
    """A GLFW window: a chosen monitor, fullscreen or not, vsync, hidden cursor.

    Frames are drawn into a framebuffer of the output size (the pixels an export writes) and presented scaled to
    fit whatever the window's framebuffer is: a monitor that cannot switch to the output's size, a high-DPI
    screen, a projector of another aspect (black bars).
    """

    def __init__(self, width: int, height: int, *, title: str = "likeness", monitor: int | None = None,
                 fullscreen: bool = False, vsync: bool = True, hide_cursor: bool = False, visible: bool = True):
        try:
            import glfw
        except ImportError:
            raise UsageError("a window needs the glfw package: pip install 'likeness[window]' (or pass --offscreen)"
                             ) from None
        import moderngl

        self.glfw = glfw
        if not glfw.init():
            raise UsageError("no display to open a window on (GLFW could not start: is DISPLAY set?); run with "
                             "--offscreen, or under xvfb-run for a virtual display")
        monitors = glfw.get_monitors() or []
        if monitor is not None and not 0 <= monitor < len(monitors):
            glfw.terminate()
            raise UsageError(f"--monitor {monitor}: this display has {len(monitors)} monitor(s), numbered from 0")
        target = monitors[monitor or 0] if (fullscreen and monitors) else None
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.RESIZABLE, False)
        glfw.window_hint(glfw.VISIBLE, visible)
        self.window = glfw.create_window(width, height, title, target, None)
        if not self.window:
            glfw.terminate()
            raise UsageError("the window could not be created (no OpenGL 3.3 on this display); try --offscreen")
        if monitor is not None and target is None and monitors:
            x, y = glfw.get_monitor_pos(monitors[monitor])
            glfw.set_window_pos(self.window, x + 40, y + 40)
        glfw.make_context_current(self.window)
        glfw.swap_interval(1 if vsync else 0)
        if hide_cursor:
            glfw.set_input_mode(self.window, glfw.CURSOR, glfw.CURSOR_HIDDEN)
        self.ctx = moderngl.create_context(require=330)
        self.size = (width, height)
        self.fbo = self.ctx.framebuffer(color_attachments=[self.ctx.texture((width, height), 4)])
        self.fbo.color_attachments[0].filter = (moderngl.LINEAR, moderngl.LINEAR)
        self._present = self.ctx.vertex_array(self.ctx.program(vertex_shader=PRESENT_VERTEX,
                                                               fragment_shader=PRESENT_FRAGMENT), [])
        self.keys: list[int] = []
        self.monitor_index, self.hide_cursor = monitor or 0, hide_cursor
        self._windowed: tuple[int, int, int, int] | None = None  # x, y, width, height before going fullscreen
        glfw.set_key_callback(self.window, self._on_key)

    def _on_key(self, window, key, scancode, action, mods) -> None:
        if action == self.glfw.PRESS:
            self.keys.append(key)

    def begin(self) -> None:
        self.fbo.use()

    @property
    def fullscreen(self) -> bool:
        return bool(self.glfw.get_window_monitor(self.window))

    def toggle_fullscreen(self) -> bool:
        """Fill the chosen monitor (its video mode closest to the output size, as --fullscreen does; cursor hidden),
        or go back to the window where it was. Returns whether it is fullscreen now. A monitor that cannot be
        queried, or a display that refuses, is logged and leaves the window as it was: a show never stops for it."""
        glfw = self.glfw
        try:
            if self.fullscreen:
                x, y, width, height = self._windowed or (40, 40, *self.size)
                glfw.set_window_monitor(self.window, None, x, y, width, height, 0)
                if not self.hide_cursor:
                    glfw.set_input_mode(self.window, glfw.CURSOR, glfw.CURSOR_NORMAL)
                return False
            monitors = glfw.get_monitors() or []
            monitor = monitors[self.monitor_index] if self.monitor_index < len(monitors) else None
            mode = glfw.get_video_mode(monitor) if monitor else None
            if mode is None:
                log.warning("f: the display reports no monitor %d to fill; the window stays as it is",
                            self.monitor_index)
                return False
            self._windowed = (*glfw.get_window_pos(self.window), *glfw.get_window_size(self.window))
            glfw.set_window_monitor(self.window, monitor, 0, 0, *self.size, mode.refresh_rate)
            glfw.set_input_mode(self.window, glfw.CURSOR, glfw.CURSOR_HIDDEN)
            return True
        except Exception as err:  # GLFW reports display errors as exceptions or warnings, by its settings
            log.warning("f: fullscreen could not be toggled (%s); the window stays as it is", err)
            return False

    def present(self) -> None:
        """The frame into the window's back buffer, fitted to its framebuffer (black around it)."""
        import moderngl

        screen = self.ctx.screen
        screen_size = tuple(self.glfw.get_framebuffer_size(self.window))
        screen.use()
        # moderngl knows the default framebuffer at the size it had when the context was made: set both
        # rectangles to its size now (fullscreen, or a high-DPI screen), or drawing is clipped to the old one
        screen.viewport = screen.scissor = (0, 0, *screen_size)
        screen.clear(0.0, 0.0, 0.0, 1.0)
        screen.viewport = fit_inside(screen_size, self.size)
        self.ctx.disable(moderngl.BLEND)
        self.fbo.color_attachments[0].use(0)
        self._present.render(moderngl.TRIANGLE_STRIP, vertices=4)

    def finish(self) -> None:
        self.present()
        self.glfw.swap_buffers(self.window)
        self.glfw.poll_events()

    def should_close(self) -> bool:
        return bool(self.glfw.window_should_close(self.window))

    def read_rgb(self) -> np.ndarray:
        """The frame as drawn, at the output size, height x width x 3 uint8, top row first."""
        width, height = self.size
        raw = self.fbo.read(components=3, alignment=1)
        return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)[::-1].copy()

    def read_screen(self) -> np.ndarray:
        """What the window shows (call after `present`, before the swap), at its framebuffer's size. After a size
        change the drawable follows at the next swap: one frame later."""
        width, height = self.glfw.get_framebuffer_size(self.window)
        raw = self.ctx.screen.read(viewport=(0, 0, width, height), components=3, alignment=1)
        return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)[::-1].copy()

    def release(self) -> None:
        self.fbo.release()
        self.glfw.destroy_window(self.window)
        self.glfw.terminate()
