"""Which source frames `likeness prepare` picks, checked against an independent per-target search.

Every test video carries its frame index as a barcode, so the zip itself says which source frame each output
frame is. The expected indices come from the rule applied target by target to the timestamps the test wrote
(tests/footage.py), not from the streaming code under test.
"""

from fractions import Fraction

import pytest

from footage import average_rate, cfr_video, decoded_times, expected_indices, prepare_options, write_video, zip_indices
from training.footage.prepare import prepare
from training.footage.frame_targets import TargetClock
from training.footage.timecode import format_clock, parse_rate, parse_time


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp("videos")
    return {
        "30": cfr_video(d / "c30.mp4", 120, Fraction(30)),
        "ntsc": cfr_video(d / "ntsc.mp4", 120, Fraction(30000, 1001)),
    }


def test_parse_rate_and_time():
    assert parse_rate("10") == 10 and parse_rate("0.5") == Fraction(1, 2)
    assert parse_rate("30000/1001") == Fraction(30000, 1001) and parse_rate("29.97") == Fraction(2997, 100)
    for bad in ("0", "-1", "abc", "1/0", "nan", "inf", ""):
        with pytest.raises(ValueError):
            parse_rate(bad)
    assert parse_time("90") == 90 and parse_time("4.5") == Fraction(9, 2)
    assert parse_time("1:30") == 90 and parse_time("01:02:03.250") == 3723 + Fraction(1, 4)
    for bad in ("1:75", "x", "1:2:3:4", "-5"):
        with pytest.raises(ValueError):
            parse_time(bad)
    assert format_clock(Fraction(3723) + Fraction(1, 4)) == "1:02:03.250"
    assert format_clock(Fraction(7, 3)) == "00:02.333"


def test_target_clock_counts_repeats_and_stops_at_end():
    clock = TargetClock(Fraction(10), Fraction(0), Fraction(1))
    # frames every 0.25 s: each fills the targets up to its time plus a half frame of 0.125 s
    taken = [clock.take(Fraction(i, 4), Fraction(1, 8)) for i in range(5)]
    assert taken == [2, 2, 3, 2, 1] and sum(taken) == 10
    assert clock.repeats == 5 and clock.done


@pytest.mark.parametrize("which", ["30", "ntsc"])
@pytest.mark.parametrize("fps", ["1", "10", "12"])
def test_frame_exact_sampling(videos, tmp_path, which, fps):
    path = videos[which]
    rate = parse_rate(fps)
    expected = expected_indices(decoded_times(path), rate, Fraction(1, 2) / average_rate(path))
    result = prepare(prepare_options([path], tmp_path / "d.zip", fps=rate))
    assert zip_indices(tmp_path / "d.zip") == expected
    assert result.frames == len(expected) and result.repeats == 0
    if which == "ntsc" and fps == "12":
        # target 1/12 s = 0.0833: frame 2 (0.0667 s) is within half a frame of it, so the rule takes frame 2
        # where "first frame at or after the target" would take frame 3
        assert expected[:3] == [0, 2, 5]


def test_ntsc_frame_times_in_provenance(videos, tmp_path):
    """At 29.97 fps the frame for the target 1.0 s is frame 30 at 1.001 s (frame 29 at 0.968 s is too early)."""
    result = prepare(prepare_options([videos["ntsc"]], tmp_path / "d.zip", fps=Fraction(1)))
    assert zip_indices(tmp_path / "d.zip") == [0, 30, 60, 90]
    assert result.provenance["frames"] == [[0, 0.0], [0, 1.001], [0, 2.002], [0, 3.003]]


VFR_MS = [0, 33, 70, 100, 180, 200, 210, 300, 301, 350, 520, 560, 600, 633, 700, 733, 766, 1000, 1040, 1090]


@pytest.mark.parametrize("container", ["mp4", "mkv"])
@pytest.mark.parametrize("fps", ["10", "12", "30"])
def test_variable_frame_rate(tmp_path, container, fps):
    """Phone-like irregular timing, with a gap (350 -> 520 ms and 766 -> 1000 ms) that forces repeats."""
    times = [Fraction(ms, 1000) for ms in VFR_MS]
    path = write_video(tmp_path / f"vfr.{container}", times, time_base=Fraction(1, 1000), rate=Fraction(30))
    assert decoded_times(path) == times
    rate = parse_rate(fps)
    expected = expected_indices(times, rate, Fraction(1, 2) / average_rate(path))
    result = prepare(prepare_options([path], tmp_path / "d.zip", fps=rate))
    assert zip_indices(tmp_path / "d.zip") == expected
    assert result.repeats == len(expected) - len(set(expected))
    assert result.provenance["repeated_frames"] == result.repeats
    if fps == "30":
        assert result.repeats > 0


def test_repeats_warned_when_fps_above_source_rate(videos, tmp_path):
    from conftest import run_cli

    out = tmp_path / "d.zip"
    result = run_cli("prepare", str(videos["30"]), "--person", "T", "--consent", "test", "--fps", "60",
                     "--size", "16", "--end", "1", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "above the frame rate of c30.mp4 (30 fps)" in result.stderr
    expected = expected_indices(decoded_times(videos["30"]), Fraction(60), Fraction(1, 60), end=Fraction(1))
    assert zip_indices(out) == expected and len(expected) == 60
    assert f"{60 - len(set(expected))} output frames repeat" in result.stdout


def test_several_videos_form_one_timeline(tmp_path):
    a = cfr_video(tmp_path / "a.mp4", 45, Fraction(30))  # 1.5 s, indices 0..44
    b = cfr_video(tmp_path / "b.mkv", 50, Fraction(25), first_index=1000)  # 2 s, indices 1000..1049
    result = prepare(prepare_options([a, b], tmp_path / "d.zip", fps=Fraction(4)))
    times = decoded_times(a) + [Fraction(3, 2) + t for t in decoded_times(b)]
    labels = list(range(45)) + list(range(1000, 1050))
    # the half frame belongs to the frame's own source: 1/60 s in a.mp4, 1/50 s in b.mkv
    chosen = []
    for k in range(14):
        target = Fraction(k, 4)
        j = next((i for i, t in enumerate(times) if t >= target - (Fraction(1, 60) if i < 45 else Fraction(1, 50))),
                 None)
        if j is not None:
            chosen.append(labels[j])
    assert zip_indices(tmp_path / "d.zip") == chosen
    # 0.25 s: frame 7 (0.2333 s) is exactly half a frame early, which the rule accepts
    assert chosen == [0, 7, 15, 22, 30, 37, 1000, 1006, 1012, 1019, 1025, 1031, 1037, 1044]
    block = result.provenance
    assert [s["offset"] for s in block["sources"]] == [0.0, 1.5]
    assert block["frames"][6][0] == 1 and block["frames"][5][0] == 0


def test_start_and_end_trim_the_timeline_and_seek(tmp_path):
    """--start 3.5 lies past SEEK_AFTER, so the reader seeks (backward to a keyframe) instead of decoding from 0."""
    path = cfr_video(tmp_path / "long.mp4", 180, Fraction(30), gop=30)  # 6 s, keyframe every second
    times = decoded_times(path)
    result = prepare(prepare_options([path], tmp_path / "d.zip", fps=Fraction(10), start=Fraction(7, 2),
                             end=parse_time("0:05.2")))
    expected = expected_indices(times, Fraction(10), Fraction(1, 60), start=Fraction(7, 2), end=Fraction(26, 5))
    assert zip_indices(tmp_path / "d.zip") == expected == list(range(105, 156, 3))
    assert result.decoded < 120  # it did not decode the first 3.5 s
    assert result.provenance["start"] == 3.5 and result.provenance["end"] == 5.2


def test_start_in_second_video(tmp_path):
    a = cfr_video(tmp_path / "a.mp4", 30, Fraction(30))
    b = cfr_video(tmp_path / "b.mp4", 60, Fraction(30), first_index=500)
    prepare(prepare_options([a, b], tmp_path / "d.zip", fps=Fraction(2), start=Fraction(3, 2)))
    assert zip_indices(tmp_path / "d.zip") == [515, 530, 545]
