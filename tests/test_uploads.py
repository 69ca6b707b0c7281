"""The upload paths' bookkeeping: one frame's staged groups never overwrite each other, and an interop registration
follows the compositor's array when it is replaced, even when OpenGL gives the new array the old one's name."""

import numpy as np
import pytest
import torch

from installation.compositor import Compositor
from installation.outputs import OffscreenOutput
from installation.uploads import InteropUpload, StagingArea


def test_a_frames_groups_are_staged_side_by_side_and_survive_growth():
    made = []

    def allocate(count):
        made.append(count)
        return torch.zeros(count, dtype=torch.uint8)

    staging = StagingArea(allocate)
    a, b = torch.full((2, 4, 4, 3), 7, dtype=torch.uint8), torch.full((1, 8, 8, 3), 9, dtype=torch.uint8)
    staging.begin_frame()
    got_a = staging.stage(a)
    got_b = staging.stage(b)  # needs more than the first buffer: a new one; got_a still holds its pixels
    assert torch.equal(got_a, a) and torch.equal(got_b, b)
    staging.begin_frame()
    again_a = staging.stage(a + 1)
    again_b = staging.stage(b + 1)
    assert torch.equal(again_a, a + 1) and torch.equal(again_b, b + 1)  # the second of two groups kept the first's
    assert len(made) == 2  # the second frame fitted in the grown buffer
    assert again_a.data_ptr() != again_b.data_ptr()


class FakeRuntime:
    """Records what InteropUpload asks of CUDA's runtime: the bookkeeping is ours to test; the calls themselves run
    on a GPU only (benchmarks/gpu_session.sh render)."""

    class cudaGraphicsRegisterFlags:
        cudaGraphicsRegisterFlagsWriteDiscard = 2

    def __init__(self):
        self.calls = []
        self.live = set()
        self.next = 0

    def cudaGraphicsGLRegisterImage(self, glo, target, flags):
        self.next += 1
        self.calls.append(("register", glo))
        self.live.add(self.next)
        return 0, self.next

    def cudaGraphicsUnregisterResource(self, resource):
        self.calls.append(("unregister", resource))
        self.live.discard(resource)
        return (0,)


@pytest.fixture(scope="module")
def egl():
    out = OffscreenOutput(32, 32)
    yield out
    out.release()


def test_interop_registers_each_new_array_and_lets_go_before_it_is_deleted(egl):
    rt = FakeRuntime()
    interop, comp = InteropUpload(rt), Compositor(egl.ctx)
    comp.reserve(16, 2, 4)
    interop.register(comp)
    interop.register(comp)  # the same array: nothing new
    assert [c[0] for c in rt.calls] == ["register"] and comp.generation == 1
    assert not comp.reallocates(16, 2, 4) and comp.reallocates(32, 2, 4) and comp.reallocates(16, 3, 4)
    glo = comp.array.glo
    interop.forget()  # what Renderer does when reallocates() says the array is about to go
    comp.reserve(32, 2, 4)
    interop.register(comp)
    assert comp.generation == 2 and [c[0] for c in rt.calls] == ["register", "unregister", "register"]
    assert len(rt.live) == 1
    # a new array that happens to get the old GL name is still registered afresh
    comp.array.release()
    comp.array = egl.ctx.texture_array((32, 32, 2), 4, dtype="f1")
    comp.generation += 1
    interop.register(comp)
    assert rt.calls[-2:] == [("unregister", 2), ("register", comp.array.glo)] and len(rt.live) == 1
    assert isinstance(glo, int)
    interop.release()
    assert not rt.live


def test_renderer_frames_through_pbo_are_right_with_several_groups(egl, tmp_path):
    """Two people, two groups in one frame: each window shows its own person's image (the pbo path stages every
    group of a frame before uploading any)."""
    from installation.layouts import GridLayout, grid
    from installation.model_pool import ModelPool
    from installation.renderer import FrameRequest, Renderer, windows_for
    from installation.walks import WalkSpec
    from tests.render_models import make_registry

    pool = ModelPool.from_registry(make_registry(tmp_path, {"ana": 1, "bo": 2}))
    out = OffscreenOutput(80, 40, ctx=egl.ctx)
    request = FrameRequest(windows_for(grid(GridLayout(rows=1, cols=2, gap=4, margin=4), 80, 40), ["ana", "bo"],
                                       WalkSpec(seeds=(0,)), 0.0))
    frames = []
    for upload in ("host", "pbo"):
        renderer = Renderer(pool, out, upload=upload)
        images = renderer.images(request)
        assert not np.array_equal(images[0][1], images[1][1])
        renderer.draw(request)
        frames.append(out.read_rgb())
        renderer.release()
    assert np.array_equal(frames[0], frames[1])
    out.release()
