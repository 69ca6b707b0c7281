"""The synthetic sitter clip and `likeness demo`."""

from fractions import Fraction

import av
import numpy as np

from conftest import run_cli
from training.footage.demo_clip import SitterRenderer, make_look, pose_at, write_demo_clip


def test_a_seed_always_gives_the_same_sitter():
    a = SitterRenderer(make_look(7, 10), 160, 96, 7)
    b = SitterRenderer(make_look(7, 10), 160, 96, 7)
    c = SitterRenderer(make_look(8, 10), 160, 96, 8)
    for i, t in ((0, 0.0), (45, 1.5), (200, 6.67)):
        assert np.array_equal(a.frame(i, t), b.frame(i, t))
        assert np.abs(a.frame(i, t).astype(int) - c.frame(i, t)).mean() > 5


def test_the_sitter_moves_blinks_and_is_structured():
    look = make_look(0, 30)
    poses = [pose_at(look, t / 10) for t in range(300)]
    assert max(p.yaw for p in poses) > 0.3 and min(p.yaw for p in poses) < -0.3  # turns both ways
    assert max(p.blink for p in poses) > 0.9 and sum(p.blink > 0.5 for p in poses) < 30  # blinks, briefly
    assert max(p.mouth for p in poses) > 0.3  # talks
    assert max(p.exposure for p in poses) - min(p.exposure for p in poses) > 0.15  # light changes
    renderer = SitterRenderer(look, 320, 180, 0)
    first, later = renderer.frame(0, 0.0), renderer.frame(150, 5.0)
    assert first.std() > 20  # neither flat ...
    grey = first.mean(axis=2)
    assert np.abs(np.diff(grey, axis=1)).mean() < 12  # ... nor noise: neighbouring pixels mostly agree
    assert np.abs(first.astype(int) - later).mean() > 3  # and it changes over time


def test_clip_is_h264_with_exact_frame_count(tmp_path):
    path = write_demo_clip(tmp_path / "s.mp4", duration=1.0, width=160, height=96, fps=Fraction(12), seed=3)
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = list(c.decode(s))
        assert s.codec_context.name == "h264" and (s.width, s.height) == (160, 96)
        assert s.average_rate == 12 and len(frames) == 12
    assert [p.name for p in tmp_path.iterdir()] == ["s.mp4"]  # no temporary file left


def test_demo_command_makes_keeps_and_remakes(tmp_path):
    out = tmp_path / "demo"
    args = ("demo", "--outdir", str(out), "--duration", "2", "--size", "32", "-q")
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    clip, one, ten = out / "sitter.mp4", out / "sitter-1fps-32px.zip", out / "sitter-10fps-32px.zip"
    assert clip.exists() and one.exists() and ten.exists()
    assert "wrote " + str(one) + ": 2 frames 32x32 crop at 1 fps" in result.stdout
    assert "wrote " + str(ten) + ": 20 frames 32x32 crop at 10 fps" in result.stdout
    assert result.stdout.count("verified  all") == 2 and result.stdout.count(": OK") == 2
    assert "no real person is depicted" in result.stdout
    stamps = {p: p.stat().st_mtime_ns for p in (clip, one, ten)}

    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("keeping ") == 3 and "--force" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    forced = run_cli(*args, "--force")
    assert forced.returncode == 0 and "keeping" not in forced.stdout
    assert all(p.stat().st_mtime_ns != stamps[p] for p in stamps)


def test_demo_refuses_a_bad_size(tmp_path):
    result = run_cli("demo", "--outdir", str(tmp_path / "d"), "--size", "100")
    assert result.returncode == 2 and "power of two" in result.stderr
    assert not (tmp_path / "d").exists()
