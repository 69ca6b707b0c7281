"""How a group's quantised images reach the compositor's texture array: three paths, chosen once per renderer.

- `host`: device -> host copy, plain texture write (what a CPU has; the reference the others are checked against).
- `pbo`: device -> pinned host memory (on CUDA), then through a pixel-unpack buffer, so the driver can copy to the
  texture asynchronously; runs on any OpenGL 3.3 driver, llvmpipe included (a test compares it with `host`).
- `interop` (CUDA only): the images stay on the GPU; CUDA copies each one device-to-device into the GL texture
  array registered with `cudaGraphicsGLRegisterImage` (the optional `cuda-bindings` package). Textures must then be
  RGBA8 (CUDA cannot register 3-channel images), so the compositor's array has 4 components.

`auto` picks interop on CUDA, host otherwise. Whatever fails at start (no `cuda-bindings`, a register error, a
driver without interop) is logged once and the path falls back to pbo; the show keeps drawing.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

log = logging.getLogger("likeness.render")

UPLOADS = ("auto", "interop", "pbo", "host")


class HostUpload:
    """Device -> host -> texture write."""

    name = "host"
    components = 3

    def begin_frame(self) -> None:
        """A frame's images are about to be made: whatever was staged for the last one may be reused."""

    def images(self, pixels: torch.Tensor) -> list:
        """[N, r, r, 3] uint8 on the device -> what `upload` takes, one per image."""
        return list(pixels.cpu().numpy())

    def upload(self, compositor, layer: int, image) -> None:
        compositor.upload(layer, image)

    def forget(self) -> None:
        """The compositor's texture array is about to be deleted (it grows): drop any hold on it first."""

    def release(self) -> None:
        pass


class StagingArea:
    """One frame's images side by side in one reused host buffer: every group of a frame is made before any is
    uploaded, so a group must not overwrite the last one's. A frame that needs more than the buffer holds gets a
    larger one; views handed out earlier keep the old buffer alive until they are dropped."""

    def __init__(self, allocate):
        self.allocate = allocate  # bytes -> 1-D uint8 tensor (pinned on CUDA)
        self.buffer: torch.Tensor | None = None
        self.used = 0

    def begin_frame(self) -> None:
        self.used = 0

    def stage(self, pixels: torch.Tensor) -> torch.Tensor:
        """A host tensor of pixels' shape in the buffer, filled from pixels without waiting (non_blocking)."""
        count = pixels.numel()
        if self.buffer is None or self.used + count > self.buffer.numel():
            self.buffer = self.allocate(max(2 * (self.buffer.numel() if self.buffer is not None else 0),
                                            self.used + count))
            self.used = 0
        staged = self.buffer[self.used:self.used + count].view(pixels.shape)
        self.used += count
        staged.copy_(pixels, non_blocking=True)
        return staged


class PboUpload(HostUpload):
    """Pinned host staging (CUDA) and a moderngl Buffer as GL_PIXEL_UNPACK_BUFFER for the texture write."""

    name = "pbo"

    def __init__(self, ctx):
        self.ctx = ctx
        self.buffer = None
        self.staging: StagingArea | None = None

    def begin_frame(self) -> None:
        if self.staging is not None:
            self.staging.begin_frame()

    def images(self, pixels: torch.Tensor) -> list:
        """Staged in host memory (pinned on CUDA; plain on a CPU, where this path exists for the tests)."""
        if self.staging is None:
            pinned = pixels.device.type == "cuda"
            self.staging = StagingArea(lambda count: torch.empty(count, dtype=torch.uint8, pin_memory=pinned))
        staged = self.staging.stage(pixels)
        if pixels.device.type == "cuda":
            torch.cuda.current_stream(pixels.device).synchronize()
        return list(staged.numpy())  # views into the staging buffer, valid for this frame

    def upload(self, compositor, layer: int, image) -> None:
        if isinstance(image, torch.Tensor):  # an interop image, after interop failed mid-frame
            image = image.cpu().numpy()
        r = image.shape[0]
        raw = np.ascontiguousarray(image)
        if self.buffer is None or self.buffer.size < raw.nbytes:
            if self.buffer is not None:
                self.buffer.release()
            self.buffer = self.ctx.buffer(reserve=raw.nbytes, dynamic=True)
        else:
            self.buffer.orphan()  # a fresh store: no wait for the previous layer's copy
        self.buffer.write(raw)
        compositor.array.write(self.buffer, viewport=(0, 0, layer, r, r, 1), alignment=1)

    def release(self) -> None:
        if self.buffer is not None:
            self.buffer.release()
            self.buffer = None


class InteropUpload:
    """CUDA -> GL texture array, device to device, through cudaGraphicsGLRegisterImage."""

    name = "interop"
    components = 4

    def __init__(self, cudart):
        self.rt = cudart
        self._resource = None
        self._generation: int | None = None  # which of the compositor's arrays is registered

    def begin_frame(self) -> None:
        pass

    def images(self, pixels: torch.Tensor) -> list:
        rgba = torch.empty((*pixels.shape[:3], 4), dtype=torch.uint8, device=pixels.device)
        rgba[..., :3] = pixels
        rgba[..., 3] = 255
        return list(rgba)  # contiguous RGBA, still on the GPU

    def _check(self, result, what: str):
        err = result[0] if isinstance(result, tuple) else result
        if int(err) != 0:
            raise RuntimeError(f"{what} failed: {err}")
        return result[1] if isinstance(result, tuple) and len(result) > 1 else None

    def register(self, compositor) -> None:
        """Register the compositor's array (again when it was reallocated since: by its generation, not its GL
        name, which OpenGL may hand out again for the new array)."""
        if compositor.generation == self._generation and self._resource is not None:
            return
        self._unregister()
        GL_TEXTURE_2D_ARRAY = 0x8C1A
        flags = self.rt.cudaGraphicsRegisterFlags.cudaGraphicsRegisterFlagsWriteDiscard
        self._resource = self._check(self.rt.cudaGraphicsGLRegisterImage(compositor.array.glo, GL_TEXTURE_2D_ARRAY,
                                                                         flags), "cudaGraphicsGLRegisterImage")
        self._generation = compositor.generation

    def upload(self, compositor, layer: int, image: torch.Tensor) -> None:
        self.register(compositor)
        torch.cuda.current_stream(image.device).synchronize()  # the copy below runs on CUDA's default stream
        rt = self.rt
        self._check(rt.cudaGraphicsMapResources(1, self._resource, 0), "cudaGraphicsMapResources")
        try:
            array = self._check(rt.cudaGraphicsSubResourceGetMappedArray(self._resource, layer, 0),
                                "cudaGraphicsSubResourceGetMappedArray")
            r = image.shape[0]
            self._check(rt.cudaMemcpy2DToArray(array, 0, 0, image.data_ptr(), r * 4, r * 4, r,
                                               rt.cudaMemcpyKind.cudaMemcpyDeviceToDevice), "cudaMemcpy2DToArray")
        finally:
            self._check(rt.cudaGraphicsUnmapResources(1, self._resource, 0), "cudaGraphicsUnmapResources")

    def _unregister(self) -> None:
        if self._resource is not None:
            self.rt.cudaGraphicsUnregisterResource(self._resource)
            self._resource, self._generation = None, None

    def forget(self) -> None:
        self._unregister()  # before OpenGL deletes the texture it refers to

    def release(self) -> None:
        self._unregister()


def choose_upload(upload: str, ctx, device: torch.device):
    """The upload path for `upload` (one of UPLOADS) on `device`; interop falls back to pbo, said once."""
    if upload not in UPLOADS:
        raise ValueError(f"upload must be one of {', '.join(UPLOADS)}, got {upload!r}")
    device = torch.device(device)
    if upload == "auto":
        upload = "interop" if device.type == "cuda" else "host"
    if upload == "host":
        return HostUpload()
    if upload == "interop":
        why = None
        if device.type != "cuda":
            why = f"the models are on {device}, not CUDA"
        else:
            try:
                from cuda.bindings import runtime as cudart  # the optional cuda-bindings package
                return InteropUpload(cudart)
            except ImportError:
                why = "the cuda-bindings package is not installed (pip install cuda-bindings)"
        log.warning("CUDA-OpenGL interop is not used: %s; uploading through a pixel buffer (pbo)", why)
    return PboUpload(ctx)
