"""One frame: every window's latent, one synthesis batch per model and level of detail, one composite.

The renderer draws a `FrameRequest` (which person, which walk and which position on it, where on screen, how opaque)
and nothing else, so what is drawn is a pure function of the request: a show computes requests from its clock and
control state, live and export alike, and the same request gives the same pixels. Windows are grouped by (model,
level): a window smaller than a model's resolution stops synthesis at the first level at least as large as it is on
screen (the skip generator's RGB there), so a 4x3 grid of 1024 px models at 1080p (344 px windows) draws 512 px
images. With `cross_batch`, the groups of one architecture and level are one synthesis call across models
(`installation/cross_batch.py`). How images reach OpenGL is `installation/uploads.py`'s choice (`upload=`):
CUDA-OpenGL interop on CUDA (the images never leave the GPU), a pixel-unpack buffer from pinned memory, or a plain
host texture write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch

from installation.compositor import Compositor, Quad
from installation.cross_batch import StackCache, architecture, pad_to
from installation.layouts import RGBA, Arrangement, Rect, level_of_detail
from installation.model_pool import ModelPool, log
from installation.uploads import PboUpload, choose_upload
from installation.walks import WalkSampler, WalkSpec



@dataclass(frozen=True)
class WindowRequest:
    person: str
    walk: WalkSpec
    position: float  # on the walk, in keyframes (WalkSampler.positions)
    image: Rect
    alpha: float = 1.0


@dataclass
class FrameRequest:
    windows: list[WindowRequest]
    solids: list[tuple[Rect, RGBA]] = field(default_factory=list)
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    fade: float = 1.0
    directions: dict[int, float] = field(default_factory=dict)  # SeFa direction K -> distance moved along it


def windows_for(arrangement: Arrangement, people: list[str], walk: WalkSpec, walk_time: float, *,
                assignments: dict[int, str] | None = None, alpha: float = 1.0) -> list[WindowRequest]:
    """The requests for one layout's slots: people cycle over the slots (a slot's own assignment wins); grid
    windows take the walk clock plus their phase, film frames their fixed moment."""
    out = []
    for slot in arrangement.slots:
        person = (assignments or {}).get(slot.index) or people[slot.index % len(people)]
        time = slot.moment if slot.fixed else walk_time
        index = 0 if slot.fixed else slot.index
        position = (time * walk.speed + walk.phase * index) / walk.seconds
        out.append(WindowRequest(person, walk, position, slot.image, alpha))
    return out


class Renderer:
    """Draws frame requests from a pool of models into an output (offscreen framebuffer or window)."""

    def __init__(self, pool: ModelPool, output, *, reseed: int = 0, upload: str = "auto",
                 cross_batch: bool = False):
        self.pool = pool
        self.cross_batch = cross_batch
        self.output = output
        self.reseed = reseed
        self.compositor = Compositor(output.ctx)
        self._samplers: dict[tuple[str, WalkSpec, int], WalkSampler] = {}
        self.images_drawn = 0
        self._scratch = None
        self._directions: dict[str, torch.Tensor] = {}
        self._architectures: dict[str, tuple] = {}
        self._stacks = StackCache()
        device = next(next(iter(pool.models.values())).G.parameters()).device if pool.models else "cpu"
        self.uploads = choose_upload(upload, output.ctx, device)

    def use_pool(self, pool: ModelPool) -> None:
        """Draw from another pool from the next frame on (an edited show naming other people); what was worked out
        per model is dropped."""
        self.pool = pool
        self._samplers.clear()
        self._directions.clear()
        self._architectures.clear()
        self._stacks.clear()

    def sampler(self, person: str, walk: WalkSpec) -> WalkSampler:
        """The person's keyframes for the walk, made once. Keyed by what makes keyframes only: speed, phase,
        seconds and truncation glide over OSC every frame and must not make a new sampler each time (memory)."""
        keyframes = replace(walk, seconds=4.0, speed=1.0, truncation=1.0, phase=0.0)
        key = (person, keyframes, self.reseed)
        if key not in self._samplers:
            self._samplers[key] = WalkSampler(self.pool.models[person].G, keyframes, reseed=self.reseed)
        return self._samplers[key]

    @torch.no_grad()
    def images(self, request: FrameRequest) -> list[tuple[int, np.ndarray] | None]:
        """Per window: (level, image) or None (black: nobody left to draw it). The image is what the upload path
        takes: r x r x 3 uint8 NumPy (host, pbo) or an r x r x 4 uint8 CUDA tensor (interop)."""
        groups: dict[tuple[str, int], list[int]] = {}
        for i, win in enumerate(request.windows):
            person = self.pool.resolve(win.person)
            if person is None:
                continue
            G = self.pool.models[person].G
            level = level_of_detail(max(win.image[2], win.image[3]), G.img_resolution)
            groups.setdefault((person, level), []).append(i)
        out: list[tuple[int, np.ndarray] | None] = [None] * len(request.windows)
        self.uploads.begin_frame()
        for batch in self._batches(groups):
            latents = [self._latents(person, [request.windows[i] for i in groups[person, level]],
                                     request.directions) for person, level in batch]
            for (person, level), pixels in zip(batch, self._synthesize(batch, latents)):
                if pixels is None:
                    continue
                for i, image in zip(groups[person, level], pixels):
                    out[i] = (level, image)
        return out

    def _batches(self, groups: dict[tuple[str, int], list[int]]) -> list[list[tuple[str, int]]]:
        """Which (person, level) groups share one synthesis call: each its own, or with cross_batch all those of
        one architecture and level together."""
        if not self.cross_batch:
            return [[key] for key in groups]
        together: dict[tuple, list[tuple[str, int]]] = {}
        for person, level in groups:
            together.setdefault((self._architecture(person), level), []).append((person, level))
        return list(together.values())

    def _architecture(self, person: str) -> tuple:
        if person not in self._architectures:
            self._architectures[person] = architecture(self.pool.models[person].G.synthesis)
        return self._architectures[person]

    def prepare_directions(self) -> None:
        """Every pooled person's directions now, before the first frame (a live show: no stall at the first fader
        move)."""
        for person in self.pool.people:
            self.directions(person)

    def directions(self, person: str) -> torch.Tensor:
        """The person's SeFa directions, computed once, when first asked for or by `prepare_directions`."""
        if person not in self._directions:
            from installation.directions import sefa_directions

            self._directions[person] = sefa_directions(self.pool.models[person].G)
        return self._directions[person]

    def _latents(self, person: str, windows: list[WindowRequest], directions: dict[int, float] | None = None
                 ) -> torch.Tensor:
        """The windows' w [N, num_ws, w_dim] on the person's walks, moved along the asked directions."""
        by_walk: dict[WalkSpec, list[int]] = {}
        for i, win in enumerate(windows):
            by_walk.setdefault(win.walk, []).append(i)
        ws = [None] * len(windows)
        for walk, members in by_walk.items():
            positions = torch.tensor([windows[i].position for i in members], dtype=torch.float64)
            batch = self.sampler(person, walk).ws(positions, truncation=walk.truncation)
            for j, i in enumerate(members):
                ws[i] = batch[j]
        ws = torch.stack(ws)
        if directions:
            from installation.directions import offset

            move = offset(self.directions(person), directions)
            if move is not None:
                ws = ws + move.to(ws.device)
        return ws

    def _synthesize(self, batch: list[tuple[str, int]], latents: list[torch.Tensor]) -> list[list | None]:
        """Per group, its windows' images in the upload path's form, or None for a model just retired."""
        if len(batch) == 1:
            (person, level), = batch
            img = self.pool.models[person].G.synthesis(latents[0], noise_mode="const", max_resolution=level)
            return [self._pixels(person, img)]
        people = tuple(person for person, _ in batch)
        stack = self._stacks.get(people, [self.pool.models[person].G.synthesis for person in people])
        imgs = stack(pad_to(latents), max_resolution=batch[0][1])
        return [self._pixels(person, imgs[m, :len(latents[m])]) for m, person in enumerate(people)]

    def _pixels(self, person: str, img: torch.Tensor) -> list | None:
        if not torch.isfinite(img).all():
            self.pool.retire(person, "its generator produced NaN or infinite pixels")
            return None
        self.images_drawn += img.shape[0]
        pixels = (img.float() * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)
        return self.uploads.images(pixels)

    def draw(self, request: FrameRequest) -> None:
        """Synthesize, upload and composite one frame into the output's framebuffer."""
        self.output.begin()
        self._compose(request)

    def draw_blend(self, under: FrameRequest, over: FrameRequest, weight: float) -> None:
        """A crossfade: (1 - weight) x the frame `under` + weight x the frame `over`, exactly, whatever their
        layouts (the frame below is drawn whole into a scratch framebuffer first)."""
        scratch = self._scratch_framebuffer()
        scratch.use()
        self._compose(under)
        self.output.begin()
        self._compose(over)
        width, height = self.output.size
        self.compositor.draw_texture(scratch.color_attachments[0], (0, 0, width, height), self.output.size,
                                     alpha=1.0 - weight, rendered=True)

    def _scratch_framebuffer(self):
        if self._scratch is None:
            ctx = self.output.ctx
            self._scratch = ctx.framebuffer(color_attachments=[ctx.texture(self.output.size, 4)])
        return self._scratch

    def _compose(self, request: FrameRequest) -> None:
        images = self.images(request)
        drawn = [(win, img) for win, img in zip(request.windows, images) if img is not None]
        side = max((img[0] for _, img in drawn), default=4)
        if self.compositor.reallocates(side, len(drawn), self.uploads.components):
            self.uploads.forget()  # interop lets go of the array before OpenGL deletes it
        self.compositor.reserve(side, len(drawn), self.uploads.components)
        quads = [Quad(rect, colour=colour) for rect, colour in request.solids]
        quads += [Quad(win.image, colour=(0.0, 0.0, 0.0, win.alpha))  # nobody left to draw it: black
                  for win, img in zip(request.windows, images) if img is None]
        for layer, (win, (level, pixels)) in enumerate(drawn):
            self._upload(layer, pixels)
            quads.append(Quad(win.image, layer=layer, level=level, colour=(1.0, 1.0, 1.0, win.alpha)))
        self.compositor.draw(quads, self.output.size, request.background, request.fade)

    def _upload(self, layer: int, image) -> None:
        """One image into its layer; interop that fails (a driver without it) falls back to pbo for good, said once."""
        try:
            self.uploads.upload(self.compositor, layer, image)
        except Exception as err:
            if self.uploads.name != "interop":
                raise
            log.warning("CUDA-OpenGL interop failed (%s); uploading through a pixel buffer (pbo) from now on",
                        str(err).splitlines()[0] if str(err) else type(err).__name__)
            self.uploads.release()
            self.uploads = PboUpload(self.output.ctx)
            self.uploads.upload(self.compositor, layer, image)  # this frame's array is still RGBA

    def release(self) -> None:
        """Unregister interop resources and free the upload buffers."""
        self.uploads.release()
