"""Pacing and memory over time: dropped frames add up from the show times drawn, and gliding controls do not
make the renderer keep something new every frame."""

import torch

from installation.frame_stats import FrameStats
from installation.layouts import GridLayout, grid
from installation.model_pool import ModelPool
from installation.outputs import OffscreenOutput
from installation.renderer import FrameRequest, Renderer, windows_for
from installation.walks import WalkSampler, WalkSpec
from tests.render_models import make_registry


def test_dropped_frames_are_the_slots_never_drawn():
    stats = FrameStats(10.0)
    for k in range(6):  # every frame takes 1.8 periods: drawn for slots 0, 1, 3, 5, 7, 9
        stats.add(0.18, 1, k * 0.18)
    assert stats.dropped == 10 - 6
    paused = FrameStats(10.0)
    for _ in range(5):  # the clock stands still: nothing is late
        paused.add(0.5, 1, 3.0)
    assert paused.dropped == 0
    stepped = FrameStats(10.0, count_dropped=False)
    stepped.add(1.0, 1, 0.0), stepped.add(1.0, 1, 5.0)
    assert stepped.dropped == 0 and stepped.frames == 2


def test_a_truncation_glide_keeps_one_sampler_per_person_and_still_truncates(tmp_path):
    pool = ModelPool.from_registry(make_registry(tmp_path, {"ana": 1, "bo": 2}))
    out = OffscreenOutput(80, 40)
    renderer = Renderer(pool, out)
    arrangement = grid(GridLayout(rows=1, cols=2, gap=4, margin=4), 80, 40)
    for k in range(20):  # what an OSC truncation (and speed) glide asks for, frame after frame
        walk = WalkSpec(seeds=(3, 4), truncation=1 - k / 19, speed=1 + k / 10)
        images = renderer.images(FrameRequest(windows_for(arrangement, ["ana", "bo"], walk, 0.3)))
    assert len(renderer._samplers) == 2
    G = pool.models["ana"].G
    average = G.w_avg.reshape(1, 1, -1).expand(1, G.num_ws, -1)  # truncation 0: the average face, whatever seed
    want = (G.synthesis(average, noise_mode="const") * 127.5 + 128).clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0)
    assert torch.equal(torch.from_numpy(images[0][1]), want)
    plain = WalkSampler(G, WalkSpec(seeds=(3, 4)))
    assert not torch.allclose(plain.ws(torch.zeros(1, dtype=torch.float64)), average)  # so the check means something
    out.release()
