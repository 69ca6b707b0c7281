"""Show files and `likeness check`: every error kind at its file:line:column (also inside includes), several at
once, include cycles, did-you-mean, exact rates, frame counts worked out by hand, and the example shows in shows/
passing against a registry made by the real `likeness gate`."""

from __future__ import annotations

import re
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
from test_gate import make_run

from installation.show import Filmstrip, Grid, Single, frame_count
from installation.show_check import MIN_WINDOW, ShowError, check_show
from likeness.cli import main
from training.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<text>.*)$")

BASE = """\
title: Test
size: 640x360
rate: 25
registry: registry.yaml
"""


@pytest.fixture
def folder(tmp_path):
    """A registry (via the real gate) with ana, bo, dee approved and cy excluded (FID 114.2 above 50)."""
    for person, fid in {"ana": 9.0, "bo": 20.0, "cy": 114.2, "dee": 7.0}.items():
        make_run(tmp_path, person, {"snapshot-001000.pt": fid})
    (tmp_path / "gate.yaml").write_text("fid_max: 50\n")
    assert main(["gate", "--registry", str(tmp_path / "registry.yaml"), "--rules", str(tmp_path / "gate.yaml"),
                 str(tmp_path / "runs")]) == 0
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def problems(path: Path, **kwargs) -> list[tuple[str, int, int, str]]:
    """(file name, line, column, text) of each problem check_show reports, in order."""
    with pytest.raises(ShowError) as info:
        check_show(path, **kwargs)
    out = []
    for line in info.value.problems:
        match = PROBLEM.match(line)
        assert match, f"no FILE:LINE:COL in {line!r}"
        out.append((Path(match["file"]).name, int(match["line"]), int(match["col"]), match["text"]))
    return out


def at(path: Path, line: int, needle: str) -> tuple[int, int]:
    """(line, column) of `needle` on `line` of the file, counted from 1 as editors do: the reference for positions."""
    return line, path.read_text().splitlines()[line - 1].index(needle) + 1


def only(path: Path, **kwargs) -> tuple[str, int, int, str]:
    found = problems(path, **kwargs)
    assert len(found) == 1, found
    return found[0]


def scene_show(folder: Path, scene: str, head: str = BASE) -> Path:
    return write(folder / "show.yaml", head + "scenes:\n" + textwrap.indent(textwrap.dedent(scene), "  "))


# -- one error kind each, at its place -----------------------------------------------------------------------------


def test_an_unknown_top_level_key_says_did_you_mean(folder):
    path = write(folder / "show.yaml", BASE + "backgrond: '#000000'\nscenes:\n  - {name: a, duration: 1}\n")
    name, line, col, text = only(path)
    assert (name, line, col) == ("show.yaml", 5, 1)
    assert "unknown key 'backgrond'" in text and "did you mean 'background'?" in text


def test_an_unknown_key_deep_in_a_scene_points_at_it(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          walk:
            seeds: [1, 2]
            truncaton: 0.5
        """)
    assert only(path)[:3] == ("show.yaml", 10, 7)
    assert "did you mean 'truncation'?" in only(path)[3]


@pytest.mark.parametrize("line, expected", [
    ("    duration: soon\n", "duration must be a number"),
    ("    duration: 0\n", "duration must be above 0"),
    ("    duration: 1/0\n", "duration must be a number"),
    ("    duration: true\n", "duration must be a number"),
])
def test_a_bad_duration_is_a_type_or_range_error_at_its_key(folder, line, expected):
    path = write(folder / "show.yaml", BASE + "scenes:\n  - name: a\n" + line)
    name, row, col, text = only(path)
    assert (name, row, col) == ("show.yaml", 7, 5) and text.startswith(expected), text


def test_wrong_types_and_ranges_in_the_walk(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          walk: {seeds: [1, -2], truncation: 3, interpolation: slurp, seed: 1.5}
        """)
    found = problems(path)
    cols = {text.split()[0]: col for _, _, col, text in found}
    assert all(line == 8 for _, line, _, _ in found)
    text = path.read_text().splitlines()[7]  # the column of each key, counted from 1 as editors do
    assert cols == {"seeds": text.index("seeds:") + 1, "interpolation": text.index("interpolation:") + 1,
                    "truncation": text.index("truncation:") + 1, "seed": text.index(" seed:") + 2}
    assert any("did you mean 'slerp'?" in text for *_, text in found)


def test_a_walks_space_follows_its_interpolation(folder):
    import numpy as np

    np.save(folder / "z.npy", np.zeros((3, 8), dtype=np.float32))
    path = scene_show(folder, """\
        - name: seeds-cubic
          duration: 4
          walk: {seeds: [1, 2], interpolation: cubic}
        - name: seeds-said-w
          duration: 4
          walk: {seeds: [1, 2], space: w}
        - name: z-file-cubic
          duration: 4
          walk: {latents: z.npy, space: z, interpolation: linear}
        """)
    found = problems(path)
    assert len(found) == 2, found  # seeds with cubic are fine: the seeds are mapped to W
    text = path.read_text().splitlines()
    assert found[0][1:3] == (at(path, found[0][1], "space:")) and "drop `space: w`" in found[0][3]
    assert "the latents file is in Z" in found[1][3] and found[1][2] == text[found[1][1] - 1].index("interpolation") + 1


def test_a_grid_too_small_says_the_minimum(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          layout: {type: grid, rows: 20, cols: 4, gap: 8, margin: 24}
        """)
    name, line, col, text = only(path)
    # width (640 - 2*24 - 3*8) / 4 = 142, height (360 - 2*24 - 19*8) / 20 = 8
    assert (name, line, col) == ("show.yaml", 8, 5)
    assert "leaves windows of 142x8 px" in text and f"at least {MIN_WINDOW}x{MIN_WINDOW}" in text


def test_the_grid_minimum_is_exactly_sixteen_pixels(folder):
    # 640 wide, margin 0, gap 0: 40 columns give 16 px windows (allowed), 41 give 15.6 (refused)
    ok = scene_show(folder, "- {name: a, duration: 1, layout: {type: grid, rows: 1, cols: 40}, people: all}\n")
    assert check_show(ok).scenes[0].layout == Grid(1, 40, 0, 0, (0.0, 0.0, 0.0))
    bad = scene_show(folder, "- {name: a, duration: 1, layout: {type: grid, rows: 1, cols: 41}, people: all}\n")
    name, line, col, text = only(bad)
    assert (line, col) == at(bad, 6, "layout:") and "leaves windows of 15x360 px" in text  # 640 / 41 = 15.6, floored
    assert "each must be at least 16x16" in text


def test_a_filmstrip_of_too_many_frames(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          layout: {type: filmstrip, frames: 30, gap: 8}
        """)
    name, line, col, text = only(path)
    assert (line, col) == (8, 5) and "at least 16 px" in text and "fewer frames" in text


def test_people_missing_excluded_and_misspelled(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          people: [ana, boo, cy]
        """)
    found = problems(path)
    assert [(line, col) for _, line, col, _ in found] == [at(path, 8, "boo"), at(path, 8, "cy")]
    assert "'boo' is not in the registry (did you mean 'bo'?)" in found[0][3]
    assert "'cy' is excluded by the gate" in found[1][3] and "likeness gate approve cy" in found[1][3]


def test_people_all_takes_the_approved_only(folder):
    path = scene_show(folder, "- {name: a, duration: 1, people: all}\n")
    assert check_show(path).scenes[0].people == ("ana", "bo", "dee")


def test_a_show_whose_people_were_all_excluded(folder, tmp_path):
    registry = folder / "registry.yaml"
    registry.write_text(registry.read_text().replace("status: approved", "status: excluded"))
    path = scene_show(folder, "- {name: a, duration: 1, people: all}\n")
    name, line, col, text = only(path)
    assert (line, col) == at(path, 6, "people:") and "all people excluded by the gate" in text


def test_windows_beyond_the_layout(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          layout: {type: grid, rows: 2, cols: 3}
          people: [ana]
          windows: {2: bo, 6: dee}
        """)
    name, line, col, text = only(path)
    assert (line, col) == (10, 22) and "window 6 does not exist" in text and "numbered 0 to 5" in text
    fixed = scene_show(folder, """\
        - name: a
          duration: 4
          layout: {type: grid, rows: 2, cols: 3}
          people: [ana, dee]
          windows: {2: bo}
        """)
    scene = check_show(fixed).scenes[0]
    assert [scene.person_in_window(i) for i in range(6)] == ["ana", "dee", "bo", "dee", "ana", "dee"]


def test_hold_and_duration_together_or_neither(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          hold: true
        - name: b
          layout: single
        """)
    found = problems(path)
    assert [(line, col) for _, line, col, _ in found] == [(8, 5), (9, 5)]
    assert "both hold and duration" in found[0][3] and "no duration" in found[1][3]


def test_a_hold_scene_has_no_frame_count_and_cannot_loop(folder):
    path = scene_show(folder, "- {name: a, duration: 2}\n- {name: b, hold: true}\n")
    show = check_show(path)
    assert show.scenes[1].duration is None and show.frame_count() is None and show.length is None
    looping = scene_show(folder, "- {name: a, duration: 2}\n- {name: b, hold: true}\n", BASE + "loop: true\n")
    assert only(looping)[1:3] == (5, 1)


def test_a_nameless_scene_with_no_one_to_show_points_at_the_scene(folder):
    registry = folder / "registry.yaml"
    registry.write_text(registry.read_text().replace("status: approved", "status: excluded"))
    path = scene_show(folder, """\
        - {name: a, duration: 1, people: [ana]}
        - duration: 1
          layout: single
        """)
    found = problems(path)
    scene = ("show.yaml", *at(path, 7, "duration"))
    assert [(n, l, c) for n, l, c, _ in found] == [("show.yaml", *at(path, 6, "ana")), scene, scene]
    assert "scene 2 has no name" in found[1][3] and "no one in the registry is approved" in found[2][3]


def test_a_show_with_no_registry_points_at_the_shows_start(folder):
    path = write(folder / "show.yaml", "# no registry: line 1 is this comment, the show starts on line 2\n"
                 + BASE.replace("registry: registry.yaml\n", "") + "scenes:\n  - {name: a, duration: 1}\n")
    assert only(path) == ("show.yaml", 2, 1, "the show names no registry; add e.g. "
                                              "`registry: ../likeness-demo/registry.yaml`")
    plain = write(folder / "plain.yaml", BASE.replace("registry: registry.yaml\n", "") + "scenes:\n  - {duration: 1}\n")
    found = problems(plain)
    assert [f[:3] for f in found] == [("plain.yaml", 1, 1), ("plain.yaml", 5, 5)] and "no registry" in found[0][3]


def test_a_registry_that_moved(folder):
    path = write(folder / "sub" / "show.yaml", BASE + "scenes:\n  - {name: a, duration: 1, people: [ana]}\n")
    name, line, col, text = only(path)
    assert (name, line, col) == ("show.yaml", 4, 1)
    assert str((folder / "sub" / "registry.yaml").resolve()) in text and "--registry" in text
    assert check_show(path, registry=folder / "registry.yaml").registry == (folder / "registry.yaml").resolve()


def test_duplicate_keys_and_bad_yaml_come_from_the_strict_loader(folder):
    path = write(folder / "show.yaml", BASE + "rate: 30\nscenes: []\n")
    with pytest.raises(UsageError) as info:
        check_show(path)
    assert str(info.value).startswith(f"{path}:5:1: the key 'rate' appears twice (lines 3 and 5)")


# -- rates -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, rate", [("30000/1001", Fraction(30000, 1001)), ("25", Fraction(25)),
                                        ("24000/1001", Fraction(24000, 1001)), ("'12.5'", Fraction(25, 2)),
                                        ("60", Fraction(60))])
def test_rates_are_exact_fractions(folder, text, rate):
    path = write(folder / "show.yaml", BASE.replace("rate: 25", f"rate: {text}") + "scenes:\n  - {name: a, "
                 "duration: 1, people: all}\n")
    assert check_show(path).rate == rate and isinstance(check_show(path).rate, Fraction)


@pytest.mark.parametrize("text, expected", [("29.97", "not the NTSC rate 30000/1001"),
                                            ("23.976", "not the NTSC rate 24000/1001"),
                                            ("0", "rate must be"), ("fast", "rate must be"), ("5000", "rate must be")])
def test_bad_rates(folder, text, expected):
    path = write(folder / "show.yaml", BASE.replace("rate: 25", f"rate: {text}") + "scenes:\n  - {name: a, "
                 "duration: 1, people: all}\n")
    name, line, col, message = only(path)
    assert (line, col) == (3, 1) and expected in message


# -- frame counts, worked by hand -------------------------------------------------------------------------------------


def test_frame_counts_of_finite_and_looping_shows():
    ntsc = Fraction(30000, 1001)
    # 10 s at 30000/1001: 299.7 frames. Finite: frames at k*1001/30000 < 10 s are k = 0..299, 300 frames.
    assert frame_count(Fraction(10), ntsc, loop=False) == 300
    # Looping: a whole number of frames, the nearest: 300 (299.7 rounds up); frame 300 would repeat frame 0.
    assert frame_count(Fraction(10), ntsc, loop=True) == 300
    # 10.01 s at 30000/1001 is exactly 300 frames either way.
    assert frame_count(Fraction(1001, 100), ntsc, loop=False) == 300
    assert frame_count(Fraction(1001, 100), ntsc, loop=True) == 300
    # 2.02 s at 25 fps: 50.5 frames: finite 51 (the last at 2.00 s), looping 51 (half rounds up); 2.01 s -> 50.25
    assert frame_count(Fraction(202, 100), Fraction(25), loop=False) == 51
    assert frame_count(Fraction(202, 100), Fraction(25), loop=True) == 51
    assert frame_count(Fraction(201, 100), Fraction(25), loop=False) == 51
    assert frame_count(Fraction(201, 100), Fraction(25), loop=True) == 50
    # a loop shorter than half a frame is still one frame
    assert frame_count(Fraction(1, 100), Fraction(25), loop=True) == 1


def test_a_shows_frame_count_sums_exact_durations(folder):
    # 1001/30 s + 0.1 s (+ 1/3 s) at 30000/1001: 1000 + 2.997 + 9.99 = 1012.987 frames -> finite 1013, loop 1013
    scenes = "- {name: a, duration: 1001/30, people: all}\n- {name: b, duration: 0.1, people: all}\n" \
             "- {name: c, duration: 1/3, people: all}\n"
    head = BASE.replace("rate: 25", "rate: 30000/1001")
    show = check_show(scene_show(folder, scenes, head))
    assert show.length == Fraction(1001, 30) + Fraction(1, 10) + Fraction(1, 3)
    assert show.frame_count() == 1013
    looping = check_show(scene_show(folder, scenes, head + "loop: true\n"))
    assert looping.frame_count() == 1013
    # at 25 fps: 33.3667 + 0.1 + 0.3333 = 33.8 s -> 845 frames exactly, either way
    show25 = check_show(scene_show(folder, scenes))
    assert show25.frame_count() == 845 and check_show(scene_show(folder, scenes, BASE + "loop: true\n")) \
        .frame_count() == 845


# -- includes, defaults, several errors at once ----------------------------------------------------------------------


def test_defaults_and_includes_merge_and_errors_point_into_the_included_file(folder):
    write(folder / "parts" / "look.yaml", """\
        background: [0.1, 0.2, 0.3]
        defaults:
          walk: {seconds: 8, truncation: 0.5}
          transition: {type: crossfade, seconds: 2}
        """)
    write(folder / "parts" / "scenes.yaml", """\
        - name: inc
          duration: 3
          layout: {type: filmstrip, frames: 5, orientation: sideways}
        """)
    path = write(folder / "show.yaml", BASE + textwrap.dedent("""\
        include: [parts/look.yaml]
        defaults:
          walk: {seconds: 5}
        scenes:
          - {name: own, duration: 10, people: all, walk: {truncation: 0.9}}
          - include: parts/scenes.yaml
        """))
    name, line, col, text = only(path)
    assert (name, line, col) == ("scenes.yaml", *at(folder / "parts" / "scenes.yaml", 3, "orientation"))
    assert "orientation must be one of horizontal, vertical, got 'sideways'" in text
    (folder / "parts" / "scenes.yaml").write_text((folder / "parts" / "scenes.yaml").read_text()
                                                  .replace("sideways", "vertical"))
    show = check_show(path)
    own, inc = show.scenes
    assert show.background == (0.1, 0.2, 0.3)
    assert (own.walk.seconds, own.walk.truncation) == (5.0, 0.9)  # the show's defaults win over the part's
    assert (inc.walk.seconds, inc.walk.truncation) == (5.0, 0.5)
    assert own.transition.kind == inc.transition.kind == "crossfade" and inc.transition.seconds == 2
    assert inc.layout == Filmstrip(5, "vertical", 0.5, 0.5, 0, True, False)
    assert isinstance(own.layout, Single)
    assert show.source_text == path.read_text()
    assert show.included == tuple((f"parts/{name}", (folder / "parts" / name).read_text())
                                  for name in ("look.yaml", "scenes.yaml"))


def test_an_include_cycle_is_refused_at_the_include_that_closes_it(folder):
    write(folder / "parts" / "a.yaml", "- {name: a, duration: 1}\n- include: b.yaml\n")
    write(folder / "parts" / "b.yaml", "- include: a.yaml\n")
    path = write(folder / "show.yaml", BASE + "scenes:\n  - include: parts/a.yaml\n")
    name, line, col, text = only(path)
    assert (name, line, col) == ("b.yaml", 1, 3) and "include cycle a.yaml -> b.yaml -> a.yaml" in text


def test_a_show_including_itself(folder):
    path = write(folder / "show.yaml", BASE + "include: show.yaml\nscenes:\n  - {name: a, duration: 1}\n")
    assert only(path)[:3] == ("show.yaml", 5, 1) and "include cycle show.yaml -> show.yaml" in only(path)[3]


def test_a_missing_or_broken_include(folder):
    write(folder / "parts" / "broken.yaml", "- {name: a, duration: [1}\n")
    path = write(folder / "show.yaml", BASE + "scenes:\n  - include: parts/nope.yaml\n"
                 "  - include: parts/broken.yaml\n")
    found = problems(path)
    assert found[0][:3] == ("show.yaml", 6, 5) and "does not exist" in found[0][3]
    assert found[1][:2] == ("broken.yaml", 1) and "not valid YAML" in found[1][3] and "included at" in found[1][3]


def test_several_errors_at_once_in_two_files_and_the_cli_prints_them_all(folder, capsys):
    write(folder / "parts" / "more.yaml", "- {name: b, duration: 2, transition: {type: dissolve}}\n")
    path = write(folder / "show.yaml", BASE + textwrap.dedent("""\
        lop: true
        scenes:
          - name: a
            duration: 1
            people: [zed]
          - include: parts/more.yaml
        """))
    found = problems(path)
    assert [(n, l, c) for n, l, c, _ in found] == [("show.yaml", 5, 1), ("show.yaml", *at(path, 9, "zed")),
                                                  ("more.yaml", *at(folder / "parts" / "more.yaml", 1, "type"))]
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"likeness check: error: {path}:5:1: unknown key 'lop'")
    assert err[1].startswith(f"{path}:9:{at(path, 9, 'zed')[1]}: ")
    assert err[2].startswith(f"{folder / 'parts' / 'more.yaml'}:{found[2][1]}:{found[2][2]}: ")
    assert err[3] == "(3 problems; fix them and run `likeness check` again)"


def test_the_example_shows_pass_check(folder, capsys):
    for name in ("grid.yaml", "filmstrip.yaml"):
        assert main(["check", str(ROOT / "shows" / name), "--registry", str(folder / "registry.yaml")]) == 0
    out = capsys.readouterr().out
    assert "'Sitters, together', 1920x1080, 30000/1001 (29.970) fps" in out
    assert "'Contact strip', 1920x1080, 25 fps, looping" in out
    film = check_show(ROOT / "shows" / "filmstrip.yaml", registry=folder / "registry.yaml")
    assert film.length == 12 + 90 + 40 and film.frame_count() == 142 * 25
    assert "length: 2:22.000, 3550 frames at 25 fps per loop" in out
    grid = check_show(ROOT / "shows" / "grid.yaml", registry=folder / "registry.yaml")
    assert isinstance(grid.scenes[1].layout, Grid) and grid.scenes[1].layout.windows == 12
    assert grid.scenes[3].hold and grid.scenes[0].name == "opening"  # from shows/parts/opening.yaml
    assert grid.people == ("ana", "bo", "dee")
    from installation.show_frame import ShowFrames

    for show in (film, grid):  # what show, export and storyboard build first: every scene's walk must be drawable
        frames = ShowFrames(show, (320, 180))
        assert {walk.space for walk in frames._walks.values()} <= {"z", "w"}
    assert frames._walks[2].space == "w" and frames._walks[2].interpolation == "cubic"  # 'pairs': seeds, cubic


def test_the_annotated_example_in_shows_readme_passes_check(folder):
    import shutil

    text = (ROOT / "shows" / "README.md").read_text()
    example = text.split("## A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    shutil.copytree(ROOT / "shows" / "parts", folder / "shows" / "parts")
    path = write(folder / "shows" / "example.yaml", example)
    show = check_show(path, registry=folder / "registry.yaml")
    assert [s.name for s in show.scenes] == ["opening", "everyone", "strip", "bow"]
    everyone = show.scenes[1]
    assert everyone.windows == ((0, "dee"), (11, "ana")) and everyone.walk.phase == 0.5
    assert everyone.walk.seconds == 6 and everyone.transition.seconds == 2  # from the defaults
    assert show.scenes[2].transition.kind == "cut" and show.scenes[3].hold


def test_a_missing_latents_file_and_a_transition_longer_than_its_scene(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 2
          walk: {latents: walks/a.npy, space: w}
          transition: {type: fade, seconds: 3}
        """)
    found = problems(path)
    assert [(line, col) for _, line, col, _ in found] == [at(path, 8, "latents"), at(path, 9, "seconds")]
    assert str(folder / "walks" / "a.npy") in found[0][3] and "longer than the scene (2 s)" in found[1][3]
    import numpy as np

    (folder / "walks").mkdir()
    np.save(folder / "walks" / "a.npy", np.zeros((3, 8), np.float32))
    fixed = check_show(scene_show(folder, "- {name: a, duration: 4, walk: {latents: walks/a.npy, space: w}}\n"))
    assert fixed.scenes[0].walk.latents == (folder / "walks" / "a.npy").resolve()
    assert fixed.scenes[0].walk.space == "w"


def test_a_bad_key_in_defaults_is_reported_once_where_it_is_written(folder):
    path = write(folder / "show.yaml", BASE + "defaults:\n  transtion: cut\nscenes:\n"
                 "  - {name: a, duration: 1}\n  - {name: b, duration: 1}\n")
    name, line, col, text = only(path)
    assert (name, line, col) == ("show.yaml", 6, 3) and "did you mean 'transition'?" in text


def test_check_as_a_user_runs_it(folder):
    from conftest import run_cli

    done = run_cli("check", str(ROOT / "shows" / "grid.yaml"), "--registry", str(folder / "registry.yaml"),
                   cwd=ROOT)
    first, second = done.stdout.splitlines()[:2]
    assert done.returncode == 0 and first == "shows/grid.yaml: ok"  # paths below the working folder as typed
    assert second.endswith(f"registry {folder / 'registry.yaml'}")  # elsewhere in full
    assert "  length: open (waits for GO), 4 scenes" in done.stdout
    done = run_cli("check", str(ROOT / "shows" / "grid.yaml"), "--registry", str(folder / "nowhere.yaml"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"likeness check: error: --registry: the registry {folder / 'nowhere.yaml'} is "
                                  "not there")


def test_walk_directions_are_checked_as_osc_checks_them(folder):
    path = scene_show(folder, """\
        - name: a
          duration: 4
          walk: {directions: {0: 1.5, 7: -20, 8: 1, 2: 25, 3: soon}}
        - name: b
          duration: 4
          walk: {directons: {0: 1}}
        - name: c
          duration: 4
          walk: {directions: [1, 2]}
        """)
    found = problems(path)
    assert [(line, col) for _, line, col, _ in found] == [
        at(path, 8, "8:"), at(path, 8, "2:"), at(path, 8, "3:"), at(path, 11, "directons"), at(path, 14, "directions")]
    assert found[0][3] == "direction 8 does not exist: there are 8 directions, numbered 0 to 7 (0 is the strongest)"
    assert found[1][3] == "direction 2 must be at least -20 and at most 20, got 25"
    assert found[2][3] == "direction 3 must be a number, got 'soon'"
    assert "did you mean 'directions'?" in found[3][3]
    assert found[4][3].startswith("directions must map direction numbers to distances")
    good = scene_show(folder, """\
        - name: a
          duration: 4
          walk: {directions: {0: 1.5, 7: -20, 3: 1/2}}
        """)
    assert check_show(good).scenes[0].walk.directions == ((0, 1.5), (3, 0.5), (7, -20.0))
