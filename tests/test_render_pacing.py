"""Pacing and memory over time: the live loop's frames are the export's frames, handed out as the clock reaches
them (early ones wait, late ones are skipped), dropped frames add up from the show times drawn, and gliding
controls do not make the renderer keep something new every frame."""

import random
from fractions import Fraction

import torch

from installation.frame_pacer import FramePacer
from installation.frame_stats import FrameStats
from installation.layouts import GridLayout, grid
from installation.model_pool import ModelPool
from installation.outputs import OffscreenOutput
from installation.renderer import FrameRequest, Renderer, windows_for
from installation.walks import WalkSampler, WalkSpec
from tests.render_models import make_registry


class SteppedClock:
    """A clock that moves only when told to (by drawing, or by the pacer sleeping), so a test sees every wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds
        self.slept += seconds


def test_a_fast_loop_waits_for_each_frame_instead_of_running_ahead():
    clock = SteppedClock()
    pacer = FramePacer(Fraction(10), clock=clock, sleep=clock.sleep)
    handed = []
    for _ in range(5):  # drawing takes no time at all (a display whose vsync does nothing)
        handed.append((pacer.next_frame(), clock.now))
    assert [k for k, _ in handed] == [0, 1, 2, 3, 4]  # none skipped, none repeated
    assert all(abs(now - (k - 0.5) / 10) < 1e-9 for k, now in handed[1:])  # each at most half a period early
    assert abs(clock.slept - 0.35) < 1e-9


def test_a_slow_loop_skips_to_the_frame_the_clock_has_reached():
    clock = SteppedClock()
    pacer = FramePacer(Fraction(30000, 1001), clock=clock, sleep=clock.sleep)
    rng = random.Random(5)
    previous, handed = -1, []
    for _ in range(400):  # drawing takes from a tenth of a period to three periods
        k = pacer.next_frame()
        period = 1001 / 30000
        assert k > previous and abs(k * period - clock.now) <= period / 2 + 1e-9  # the nearest frame, never behind
        previous = k
        handed.append(k)
        clock.now += rng.uniform(0.1, 3.0) * period
    assert len(handed) < handed[-1]  # frames were skipped: the clock was kept, not slowed down
    assert pacer.time_of(30000) == 1001.0  # exactly the export's k / rate


def test_stats_give_the_rate_frames_went_out_at_and_the_share_of_each_period_drawing_took():
    stats = FrameStats(25.0)
    for k in range(11):  # drawn in 10 ms, presented every 40 ms
        stats.add(0.010, 2, k / 25, at=k * 0.04)
    summary = stats.summary()
    assert abs(summary["fps"] - 25.0) < 1e-9 and abs(summary["busy"] - 0.25) < 1e-9
    assert "busy 25%" in stats.lines()[0]


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
