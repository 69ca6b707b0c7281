"""Frames read back from the GPU (llvmpipe through EGL here) against a NumPy model of the layout: every window's
portrait is the generator's own quantised output, placed where the layout says, on the background."""

import numpy as np
import pytest
import torch

from installation.compositor import Compositor, Quad
from installation.layouts import FilmstripLayout, GridLayout, arrange, grid, level_of_detail
from installation.model_pool import ModelPool
from installation.outputs import OffscreenOutput
from installation.renderer import FrameRequest, Renderer, windows_for
from installation.walks import WalkSampler, WalkSpec
from tests.render_models import make_registry, save_generator, tiny_generator

BG = (0.25, 0.5, 0.75)


def quantise(img: torch.Tensor) -> np.ndarray:
    return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


@pytest.fixture(scope="module")
def egl():
    out = OffscreenOutput(112, 76)
    yield out
    out.release()


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return ModelPool.from_registry(make_registry(root, {"ana": 1, "bo": 2, "cy": 3}))


def reference(size, placements, background=BG, fade=1.0):
    """NumPy: background, then each r x r image copied 1:1 at its integer position, alpha-blended, then faded."""
    w, h = size
    frame = np.empty((h, w, 3), dtype=np.float64)
    frame[:] = np.array(background) * 255
    for (x, y), pixels, alpha in placements:
        r = pixels.shape[0]
        frame[y:y + r, x:x + r] = frame[y:y + r, x:x + r] * (1 - alpha) + pixels * alpha
    return frame * fade


def test_compositor_places_images_and_solids_exactly(egl):
    comp = Compositor(egl.ctx)
    rng = np.random.RandomState(0)
    a, b = rng.randint(0, 256, (16, 16, 3), dtype=np.uint8), rng.randint(0, 256, (32, 32, 3), dtype=np.uint8)
    comp.reserve(32, 2)
    comp.upload(0, a)
    comp.upload(1, b)
    quads = [Quad((2, 3, 40, 20), colour=(1.0, 0.0, 0.0, 1.0)),  # a solid under the images
             Quad((5, 7, 16, 16), layer=0, level=16), Quad((60, 30, 32, 32), layer=1, level=32, colour=(1, 1, 1, 0.5))]
    egl.begin()
    comp.draw(quads, egl.size, BG, fade=0.8)
    got = egl.read_rgb().astype(np.float64)
    want = np.empty((76, 112, 3))
    want[:] = np.array(BG) * 255
    want[3:23, 2:42] = (255, 0, 0)
    want[7:23, 5:21] = a
    want[30:62, 60:92] = want[30:62, 60:92] * 0.5 + b * 0.5
    want *= 0.8
    assert np.abs(got - want).max() <= 1.5  # 8-bit rounding of blend and fade


def test_a_grid_frame_is_each_models_output_in_its_window(egl, pool):
    layout = GridLayout(rows=2, cols=3, gap=4, margin=4)  # 112 x 76: windows of exactly 32 px
    arrangement = grid(layout, 112, 76)
    walk = WalkSpec(seeds=(0, 5, 9), seconds=2.0, phase=0.7)
    request = FrameRequest(windows_for(arrangement, pool.people, walk, 1.3), background=BG)
    Renderer(pool, egl).draw(request)
    got = egl.read_rgb().astype(np.float64)
    placements = []
    for slot in arrangement.slots:
        person = pool.people[slot.index % 3]
        G = pool.models[person].G
        sampler = WalkSampler(G, walk)
        ws = sampler.ws(sampler.positions(1.3, torch.tensor([slot.index])))
        pixels = quantise(G.synthesis(ws, noise_mode="const"))[0]
        x, y = int(slot.image[0]), int(slot.image[1])
        assert slot.image[2] == 32 and float(x) == slot.image[0]
        placements.append(((x, y), pixels, 1.0))
    assert np.abs(got - reference((112, 76), placements)).max() <= 1.0


def test_small_windows_stop_synthesis_at_their_level(egl, pool):
    G = pool.models["ana"].G
    walk = WalkSpec(seeds=(3,))
    # 16 px windows of a 32 px model draw the 16 px level: the full forward's own RGB at that level
    layout = GridLayout(rows=1, cols=2, gap=0, margin=0)
    arrangement = grid(layout, 32, 16)
    assert level_of_detail(16, 32) == 16 and level_of_detail(17, 32) == 32 and level_of_detail(500, 32) == 32
    renderer = Renderer(pool, OffscreenOutput(32, 16, ctx=egl.ctx))
    images = renderer.images(FrameRequest(windows_for(arrangement, ["ana"], walk, 0.0)))
    assert [lvl for lvl, _ in images] == [16, 16]
    ws = WalkSampler(G, walk).ws(torch.zeros(1, dtype=torch.float64))
    want = quantise(G.synthesis(ws, max_resolution=16))[0]
    assert images[0][1].shape == (16, 16, 3) and np.array_equal(images[0][1], want)


def test_the_same_time_gives_the_same_frame_twice(egl, pool):
    walk = WalkSpec(seeds=(1, 2), seconds=1.0, phase=0.3)
    renderer = Renderer(pool, egl)
    frames = []
    for _ in range(2):
        arrangement = arrange(FilmstripLayout(frames=3, speed=0.7), 112, 76, t=2.2)
        renderer.draw(FrameRequest(windows_for(arrangement, pool.people, walk, 2.2), list(arrangement.solids), BG))
        frames.append(egl.read_rgb())
    assert np.array_equal(frames[0], frames[1])
    assert frames[0].std() > 5  # not an empty frame


def test_a_broken_model_falls_back_and_the_others_keep_drawing(egl, tmp_path):
    registry = make_registry(tmp_path, {"ana": 1, "bo": 2})
    broken = tiny_generator(2)
    with torch.no_grad():
        broken.synthesis.b32.conv1.weight.fill_(float("nan"))
    from evaluation.registry import read_registry, render_registry
    from training.hashing import file_sha256

    save_generator(broken, tmp_path / "bo.pt")
    persons = read_registry(registry)
    persons["bo"]["sha256"] = file_sha256(tmp_path / "bo.pt")  # approved as it is: it loads, then draws NaN
    registry.write_bytes(render_registry(persons))
    pool = ModelPool.from_registry(registry)
    renderer = Renderer(pool, egl)
    arrangement = grid(GridLayout(rows=1, cols=2, gap=4, margin=4), 112, 76)
    request = FrameRequest(windows_for(arrangement, ["ana", "bo"], WalkSpec(seeds=(0,)), 0.0), background=BG)
    renderer.draw(request)
    first = renderer.images(request)
    assert "bo" not in pool.models and "NaN" in pool.refused["bo"]
    assert pool.resolve("bo") == "ana"
    assert np.array_equal(first[0][1], first[1][1])  # bo's window now shows ana, at the same walk position


def test_filmstrip_frames_scroll_and_keep_their_moment():
    layout = FilmstripLayout(frames=4, speed=0.5, step=2.0, gap=10)
    a0, a1 = arrange(layout, 400, 150, t=0.0), arrange(layout, 400, 150, t=1.0)
    pitch = a0.slots[1].image[0] - a0.slots[0].image[0]
    assert pitch == pytest.approx(400 / 4)
    first0 = a0.slots[0]
    moved = next(s for s in a1.slots if s.index == first0.index)
    assert moved.image[0] == pytest.approx(first0.image[0] - 0.5 * pitch)  # half a frame in one second
    assert moved.moment == first0.moment == first0.index * 2.0 and moved.fixed
    holes = [r for r, colour in a0.solids[1:]]
    assert len(holes) == 8 * len(a0.slots) and all(r[1] < first0.image[1] or r[1] > first0.image[1] +
                                                    first0.image[3] for r in holes)


def test_a_window_too_small_says_the_minimum():
    with pytest.raises(ValueError, match="at least 8 px"):
        grid(GridLayout(rows=20, cols=20, gap=4, margin=4), 160, 90)


def test_pbo_upload_draws_the_host_uploads_frame_pixel_for_pixel(egl, pool):
    layout = FilmstripLayout(frames=3, speed=0.7)
    walk = WalkSpec(seeds=(4, 8), seconds=1.5, phase=0.4)
    frames = {}
    for upload in ("host", "pbo", "auto"):
        renderer = Renderer(pool, egl, upload=upload)
        assert renderer.uploads.name == ("host" if upload == "auto" else upload)  # auto on a CPU: host
        for t in (0.6, 1.9):  # two frames: the second reuses (orphans) the pixel buffer
            arrangement = arrange(layout, 112, 76, t=t)
            renderer.draw(FrameRequest(windows_for(arrangement, pool.people, walk, t), list(arrangement.solids), BG))
            frames[upload, t] = egl.read_rgb()
        renderer.release()
    for t in (0.6, 1.9):
        assert frames["host", t].std() > 5
        assert np.array_equal(frames["pbo", t], frames["host", t]) and np.array_equal(frames["auto", t],
                                                                                      frames["host", t])
    assert not np.array_equal(frames["host", 0.6], frames["host", 1.9])


def test_interop_without_cuda_falls_back_to_pbo_and_says_so(egl, pool, caplog):
    from installation.uploads import choose_upload

    with caplog.at_level("WARNING", logger="likeness.render"):
        renderer = Renderer(pool, egl, upload="interop")
    assert renderer.uploads.name == "pbo" and "interop is not used" in caplog.text
    with pytest.raises(ValueError, match="upload must be one of auto, interop, pbo, host"):
        choose_upload("gpu", egl.ctx, "cpu")
