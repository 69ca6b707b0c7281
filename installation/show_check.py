"""Checking a show file: every problem found at once, each naming FILE:LINE:COLUMN, then a `Show`.

`check_show(path)` is what `likeness check`, `show` and `export` call first. The format is documented in
shows/README.md; the numbers it allows are the constants below.
"""

from __future__ import annotations

import difflib
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

from installation.show import RGB, Filmstrip, Grid, Scene, Show, Single, Transition, Walk
from installation.osc_space import MAX_DIRECTION
from installation.show_file import Node, merge_under, read_show_source
from training.errors import DataError, UsageError

MIN_WINDOW = 16  # px: the smallest window a layout may give a person
MAX_SIDE = 16384
MAX_RATE = 1000
MAX_WINDOWS = 256
SEED_MAX = 2 ** 32 - 1

TOP_KEYS = ("title", "size", "rate", "background", "registry", "loop", "defaults", "scenes", "include")
SCENE_KEYS = ("name", "duration", "hold", "layout", "people", "windows", "walk", "transition")
LAYOUT_KEYS = {"grid": ("type", "rows", "cols", "gap", "margin", "background"),
               "filmstrip": ("type", "frames", "orientation", "speed", "step", "gap", "frame_lines", "sprockets"),
               "single": ("type",)}
WALK_KEYS = ("mode", "seeds", "latents", "space", "interpolation", "seconds", "speed", "truncation", "phase", "seed",
             "directions")
DIRECTION_COUNT = 8  # installation.directions.DEFAULT_COUNT, not imported (torch); a test keeps them equal
TRANSITION_KEYS = ("type", "seconds")
WALK_DEFAULTS = dict(mode="keyframes", seeds=[0, 1, 2, 3], latents=None, space="z", interpolation="slerp",
                     seconds=4, speed=1, truncation=0.7, phase=0, seed=0)


class ShowError(UsageError):
    """Several problems in a show file: one per line, each `FILE:LINE:COLUMN: what; what to do`."""

    def __init__(self, problems: list[str]) -> None:
        problems = list(dict.fromkeys(problems))  # a bad key in `defaults` is found once per scene it fills
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        super().__init__("\n".join(problems) + (f"\n({count}; fix them and run `likeness check` again)"
                                                if len(problems) > 1 else ""))


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Checker:
    """Collects problems; each getter returns a usable value (a default) even when it records one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, node: Node, text: str) -> None:
        self.problems.append(f"{node.where}: {text}")

    def mapping(self, node: Node, what: str, keys) -> dict[str, Node]:
        if not node.is_map():
            self.fail(node, f"{what} must be a mapping of {', '.join(k for k in keys if k != 'include')}")
            return {}
        for key, value in node.value.items():
            if key not in keys:
                self.fail(value, f"unknown key {key!r} in {what}{did_you_mean(key, keys)}; the keys are "
                                 f"{', '.join(k for k in keys)}")
        return node.value

    def number(self, m: dict[str, Node], key: str, default: Any, *, whole: bool = False, lo=None, hi=None,
               above=None) -> Any:
        if key not in m:
            return default
        node = m[key]
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            value = None
        elif isinstance(value, str):
            value = _fraction(value)
        if value is None or (whole and Fraction(value).denominator != 1) or value != value:
            kind = "a whole number" if whole else "a number"
            self.fail(node, f"{key} must be {kind}, got {_show(node.value)}")
            return default
        value = int(value) if whole else value
        if (lo is not None and value < lo) or (hi is not None and value > hi) or (above is not None and value <= above):
            bounds = [f"above {above:g}" if above is not None else None, f"at least {lo:g}" if lo is not None else None,
                      f"at most {hi:g}" if hi is not None else None]
            self.fail(node, f"{key} must be {' and '.join(b for b in bounds if b)}, got {_show(node.value)}")
            return default
        return value

    def choice(self, m: dict[str, Node], key: str, choices: tuple[str, ...], default: str) -> str:
        if key not in m:
            return default
        value = m[key].value
        if value not in choices:
            self.fail(m[key], f"{key} must be one of {', '.join(choices)}, got {_show(value)}"
                              f"{did_you_mean(value, choices)}")
            return default
        return value

    def flag(self, m: dict[str, Node], key: str, default: bool) -> bool:
        if key not in m:
            return default
        if not isinstance(m[key].value, bool):
            self.fail(m[key], f"{key} must be true or false, got {_show(m[key].value)}")
            return default
        return m[key].value

    def text(self, m: dict[str, Node], key: str, default: str | None) -> str | None:
        if key not in m:
            return default
        if not isinstance(m[key].value, str) or not m[key].value.strip():
            self.fail(m[key], f"{key} must be text, got {_show(m[key].value)}")
            return default
        return m[key].value


def _fraction(text: str) -> Fraction | None:
    text = text.strip()
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)(/\d+)?", text) or text.endswith("/0"):
        return None
    return Fraction(text)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _exact(value: Any) -> Fraction:
    """A YAML number as the exact decimal it was written as (0.1 is 1/10, not the nearest double)."""
    return value if isinstance(value, Fraction) else Fraction(str(value))


# -- the top level -------------------------------------------------------------------------------------------------


def _size(c: _Checker, m: dict[str, Node]) -> tuple[int, int]:
    if "size" not in m:
        return 1920, 1080
    node = m["size"]
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(node.value)) if isinstance(node.value, str) else None
    if not match:
        c.fail(node, f"size must be WIDTHxHEIGHT such as 1920x1080, got {_show(node.value)}")
        return 1920, 1080
    w, h = int(match.group(1)), int(match.group(2))
    if not (MIN_WINDOW <= w <= MAX_SIDE and MIN_WINDOW <= h <= MAX_SIDE):
        c.fail(node, f"size sides must be from {MIN_WINDOW} to {MAX_SIDE} px, got {w}x{h}")
        return 1920, 1080
    return w, h


NTSC = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001))


def _rate(c: _Checker, m: dict[str, Node]) -> Fraction:
    node = m.get("rate")
    if node is None:
        return Fraction(30)
    value = node.value
    rate = None if isinstance(value, bool) else _fraction(str(value)) if isinstance(value, (int, float, str)) else None
    if rate is None or rate <= 0 or rate > MAX_RATE:
        c.fail(node, f"rate must be frames per second above 0 and at most {MAX_RATE}, exactly: 25, 24000/1001 or "
                     f"30000/1001; got {_show(value)}")
        return Fraction(30)
    near = [n for n in NTSC if n != rate and abs(n - rate) < Fraction(1, 100)]
    if near:
        c.fail(node, f"rate {value} is not the NTSC rate {near[0].numerator}/{near[0].denominator}; write that "
                     f"(or {rate.numerator}/{rate.denominator} if you mean exactly {value})")
    return rate


def _colour(c: _Checker, node: Node | None, default: RGB) -> RGB:
    if node is None:
        return default
    value = node.value
    if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        return tuple(int(value[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]
    if node.is_list() and len(value) == 3 and all(
            isinstance(v.value, (int, float)) and not isinstance(v.value, bool) and 0 <= v.value <= 1 for v in value):
        return tuple(float(v.value) for v in value)  # type: ignore[return-value]
    c.fail(node, f"a colour is '#rrggbb' or [r, g, b] with each from 0 to 1, got {_show(node.plain())}")
    return default


def _registry(c: _Checker, root: Node, m: dict[str, Node], override: Path | None
              ) -> tuple[Path | None, dict | None]:
    """The registry's path and persons (None when it cannot be read: a problem at `registry:`, or at the show's
    start when there is none, and people go unchecked)."""
    from evaluation.registry import read_registry

    if override is not None:
        path, where = Path(override).resolve(), None
    elif "registry" in m and isinstance(m["registry"].value, str):
        file = m["registry"].where.rsplit(":", 2)[0]
        path, where = (Path(file).parent / m["registry"].value).resolve(), m["registry"]
    else:
        node = m.get("registry")
        if node is not None:
            c.fail(node, f"registry must be a path to a registry.yaml, got {_show(node.value)}")
        else:
            c.fail(root, "the show names no registry; add e.g. `registry: ../likeness-demo/registry.yaml`")
        return None, None
    if not path.is_file():
        text = (f"the registry {path} is not there (moved?); give its new place in `registry:` (relative to this "
                "file) or with --registry")
        c.fail(where, text) if where is not None else c.problems.append(f"--registry: {text}")
        return path, None
    try:
        return path, read_registry(path)
    except DataError as err:
        c.fail(where, str(err)) if where is not None else c.problems.append(f"--registry: {err}")
        return path, None


# -- scenes --------------------------------------------------------------------------------------------------------


def _layout(c: _Checker, node: Node | None, size: tuple[int, int]):
    if node is None:
        return Single()
    if isinstance(node.value, str):
        node = Node({"type": Node(node.value, node.where)}, node.where)
    if not node.is_map():
        c.fail(node, f"layout must be grid, filmstrip or single, or a mapping with type:, got {_show(node.plain())}")
        return Single()
    kind = c.choice(node.value, "type", tuple(LAYOUT_KEYS), "")
    if not kind:
        if "type" not in node.value:
            c.fail(node, "layout needs a type: grid, filmstrip or single")
        return Single()
    m = c.mapping(node, f"a {kind} layout", LAYOUT_KEYS[kind])
    if kind == "grid":
        return _grid(c, node, m, size)
    if kind == "filmstrip":
        return _filmstrip(c, node, m, size)
    return Single()


def _grid(c: _Checker, node: Node, m: dict[str, Node], size: tuple[int, int]) -> Grid:
    rows = c.number(m, "rows", 2, whole=True, lo=1, hi=MAX_WINDOWS)
    cols = c.number(m, "cols", 2, whole=True, lo=1, hi=MAX_WINDOWS)
    gap = c.number(m, "gap", 0, whole=True, lo=0)
    margin = c.number(m, "margin", 0, whole=True, lo=0)
    w, h = size
    cell_w = math.floor((w - 2 * margin - (cols - 1) * gap) / cols)
    cell_h = math.floor((h - 2 * margin - (rows - 1) * gap) / rows)
    if min(cell_w, cell_h) < MIN_WINDOW:
        c.fail(node, f"a {rows}x{cols} grid with gap {gap} and margin {margin} leaves windows of {max(cell_w, 0)}x"
                     f"{max(cell_h, 0)} px in {w}x{h}; each must be at least {MIN_WINDOW}x{MIN_WINDOW}: use fewer "
                     "rows or cols, or a smaller gap or margin")
    return Grid(rows, cols, gap, margin, _colour(c, m.get("background"), (0.0, 0.0, 0.0)))


def _filmstrip(c: _Checker, node: Node, m: dict[str, Node], size: tuple[int, int]) -> Filmstrip:
    frames = c.number(m, "frames", 5, whole=True, lo=1, hi=MAX_WINDOWS)
    orientation = c.choice(m, "orientation", ("horizontal", "vertical"), "horizontal")
    gap = c.number(m, "gap", 0, whole=True, lo=0)
    along = size[0] if orientation == "horizontal" else size[1]
    side = math.floor((along - (frames - 1) * gap) / frames)
    if side < MIN_WINDOW:
        c.fail(node, f"a {orientation} filmstrip of {frames} frames with gap {gap} leaves frames {max(side, 0)} px "
                     f"wide in {along} px; each must be at least {MIN_WINDOW} px: use fewer frames or a smaller gap")
    return Filmstrip(frames, orientation, float(c.number(m, "speed", 0.5, lo=0)),
                     float(c.number(m, "step", 0.5, lo=0)), gap, c.flag(m, "frame_lines", True),
                     c.flag(m, "sprockets", False))


def _walk(c: _Checker, node: Node | None) -> Walk:
    m = c.mapping(node, "walk", WALK_KEYS) if node is not None else {}
    seeds = WALK_DEFAULTS["seeds"]
    if "seeds" in m:
        s = m["seeds"]
        if not s.is_list() or not s.value or not all(
                isinstance(v.value, int) and not isinstance(v.value, bool) and 0 <= v.value <= SEED_MAX
                for v in s.value):
            c.fail(s, f"seeds must be a list of whole numbers from 0 to {SEED_MAX}, such as [1, 2, 3], got "
                      f"{_show(s.plain())}")
        else:
            seeds = [v.value for v in s.value]
    latents = None
    from_file = "latents" in m and m["latents"].value is not None
    if from_file:
        ln = m["latents"]
        file = ln.where.rsplit(":", 2)[0]
        if not isinstance(ln.value, str) or not ln.value.endswith(".npy"):
            c.fail(ln, f"latents must name an .npy file of z or w vectors, got {_show(ln.value)}")
        else:
            latents = (Path(file).parent / ln.value).resolve()
            if not latents.is_file():
                c.fail(ln, f"the latents file {latents} does not exist; fix the path (relative to this file)")
    space = c.choice(m, "space", ("z", "w"), "z")
    default = "cubic" if from_file and space == "w" else "slerp"  # w latents walk smoothly in W unless told
    interpolation = c.choice(m, "interpolation", ("slerp", "linear", "cubic"), default)
    space = _walk_space(c, m, space, interpolation, from_file)
    return Walk(mode=c.choice(m, "mode", ("keyframes", "noise"), "keyframes"), seeds=tuple(seeds), latents=latents,
                directions=_directions(c, m.get("directions")), space=space, interpolation=interpolation,
                seconds=float(c.number(m, "seconds", 4, above=0)), speed=float(c.number(m, "speed", 1, lo=0)),
                truncation=float(c.number(m, "truncation", 0.7, lo=0, hi=2)),
                phase=float(c.number(m, "phase", 0)), seed=c.number(m, "seed", 0, whole=True, lo=0, hi=SEED_MAX))


def _walk_space(c: _Checker, m: dict[str, Node], space: str, interpolation: str, from_file: bool) -> str:
    """The space the walk interpolates in. Slerp walks run in Z, linear and cubic ones in W: seeds are mapped
    there, so for seeds the interpolation decides; a latents file is in the space `space:` says, which must be
    the interpolation's."""
    wanted = "z" if interpolation == "slerp" else "w"
    if space == wanted:
        return space
    if from_file:
        c.fail(m.get("interpolation") or m["space"], f"{interpolation} walks run in {wanted.upper()}, but the latents "
               f"file is in {space.upper()} (`space: {space}`); use interpolation: "
               f"{'slerp' if space == 'z' else 'linear or cubic'}, or save {wanted} latents")
    elif "space" in m:
        c.fail(m["space"], f"a seed walk with interpolation {interpolation} runs in {wanted.upper()}; drop "
               f"`space: {space}` (it names the space of a latents file)")
    return wanted


def _directions(c: _Checker, node: Node | None) -> tuple[tuple[int, float], ...]:
    """`directions: {K: VALUE, ...}`: SeFa direction K (0 strongest) -> distance along it, both as OSC allows."""
    if node is None or node.value is None:
        return ()
    if not node.is_map():
        c.fail(node, f"directions must map direction numbers to distances, such as `directions: {{0: 1.5, 2: -1}}`, "
                     f"got {_show(node.plain())}")
        return ()
    out = []
    for key, value in node.value.items():
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < DIRECTION_COUNT:
            c.fail(value, f"direction {key!r} does not exist: there are {DIRECTION_COUNT} directions, numbered 0 to "
                          f"{DIRECTION_COUNT - 1} (0 is the strongest)")
            continue
        number = c.number({f"direction {key}": value}, f"direction {key}", None, lo=-MAX_DIRECTION, hi=MAX_DIRECTION)
        if number is not None:
            out.append((key, float(number)))
    return tuple(sorted(out))


def _transition(c: _Checker, node: Node | None, duration: Fraction | None, scene: str) -> Transition:
    if node is None:
        return Transition("cut", Fraction(0))
    if isinstance(node.value, str):
        node = Node({"type": Node(node.value, node.where)}, node.where)
    m = c.mapping(node, "transition", TRANSITION_KEYS)
    kind = c.choice(m, "type", ("cut", "crossfade", "fade"), "")
    seconds = _exact(c.number(m, "seconds", 0 if kind == "cut" else 1, lo=0))
    if not kind:
        return Transition("cut", Fraction(0))
    if kind == "cut" and seconds:
        c.fail(m["seconds"], "a cut takes no time; drop seconds or use crossfade or fade")
    if duration is not None and seconds > duration:
        c.fail(m.get("seconds", node), f"the transition into scene {scene!r} ({float(seconds):g} s) is longer than "
                                       f"the scene ({float(duration):g} s); shorten it or lengthen the scene")
    return Transition(kind, seconds)


def _people(c: _Checker, scene: Node, m: dict[str, Node], windows: int, registry: dict, checked: bool):
    approved = sorted(n for n, e in registry.items() if e.get("status") == "approved")

    def known(node: Node) -> bool:
        name = node.value
        if not isinstance(name, str):
            c.fail(node, f"a person is a name from the registry, got {_show(name)}")
            return False
        if not checked:
            return True
        if name not in registry:
            c.fail(node, f"{name!r} is not in the registry{did_you_mean(name, registry)}; gate their model with "
                         "`likeness gate` or choose someone else")
            return False
        if registry[name].get("status") != "approved":
            reason = registry[name].get("reason") or "no reason given"
            c.fail(node, f"{name!r} is excluded by the gate ({reason}); remove them from this scene or approve "
                         f"them with `likeness gate approve {name}`")
            return False
        return True

    node = m.get("people")
    people: list[str] = []
    if node is None or node.value == "all":
        people = approved
        if checked and not approved:
            c.fail(node or m.get("name") or scene, "no one in the registry is approved (all people "
                   "excluded by the gate), so the scene has no one to show; approve someone with "
                   "`likeness gate approve PERSON`")
    elif node.is_list() and node.value:
        people = [p.value for p in node.value if known(p)]
    else:
        c.fail(node, f"people must be a list of names from the registry or `all`, got {_show(node.plain())}")
    pins: list[tuple[int, str]] = []
    if "windows" in m:
        wn = m["windows"]
        if not wn.is_map():
            c.fail(wn, "windows must map window numbers to people, such as `windows: {0: ana, 5: bo}`")
        else:
            for key, person in wn.value.items():
                if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < windows:
                    c.fail(person, f"window {key!r} does not exist: this layout has {windows} window"
                                   f"{'s' if windows > 1 else ''}, numbered 0 to {windows - 1}")
                elif known(person):
                    pins.append((key, person.value))
    if not people and pins:
        people = [p for _, p in pins]
    return tuple(people), tuple(sorted(pins))


def _scene(c: _Checker, node: Node, defaults: Node | None, size, registry: dict, checked: bool,
           index: int) -> Scene | None:
    if not node.is_map():
        c.fail(node, f"scene {index + 1} must be a mapping with name, duration (or hold), layout, people, ...")
        return None
    m = c.mapping(node, f"scene {index + 1}", SCENE_KEYS)  # its own keys; those of `defaults` are checked once
    if defaults is not None and defaults.is_map():
        node = merge_under(defaults, node)
        m = node.value
    name = c.text(m, "name", None)
    if name is None:
        if "name" not in m:
            c.fail(node, f"scene {index + 1} has no name; add `name: ...`")
        name = f"scene {index + 1}"
    hold = c.flag(m, "hold", False)
    duration = None
    if "duration" in m:
        duration = c.number(m, "duration", None, above=0)
        duration = _exact(duration) if duration is not None else Fraction(1)
        if hold:
            c.fail(m["hold"], f"scene {name!r} has both hold and duration; a hold scene waits for GO, drop one")
    elif not hold:
        c.fail(node, f"scene {name!r} has no duration; add `duration: SECONDS` or `hold: true` to wait for GO")
        duration = Fraction(1)
    if hold:
        duration = None
    layout = _layout(c, m.get("layout"), size)
    people, pins = _people(c, node, m, layout.windows, registry, checked)
    return Scene(name, duration, layout, people or ("?",), pins, _walk(c, m.get("walk")),
                 _transition(c, m.get("transition"), duration, name))


def check_show(path: str | Path, *, registry: str | Path | None = None) -> Show:
    """Read and check the show at `path` (with `registry` instead of the one it names, when given).

    Every problem is collected; if there are any, one `ShowError` (a UsageError) lists them, one per line."""
    source = read_show_source(path)
    c = _Checker()
    c.problems.extend(source.problems)
    root = source.root
    m = c.mapping(root, "the show", TOP_KEYS)
    title = c.text(m, "title", None)
    if title is None and "title" not in m:
        c.fail(root, "the show has no title; add `title: ...`")
    size = _size(c, m)
    if "size" not in m:
        c.fail(root, "the show has no size; add `size: 1920x1080` (or the size you screen at)")
    rate = _rate(c, m)
    background = _colour(c, m.get("background"), (0.0, 0.0, 0.0))
    loop = c.flag(m, "loop", False)
    reg_path, persons = _registry(c, root, m, Path(registry) if registry is not None else None)
    checked = persons is not None
    persons = persons or {}
    defaults = m.get("defaults")
    if defaults is not None:
        c.mapping(defaults, "defaults", [k for k in SCENE_KEYS if k != "name"])
    scenes: list[Scene] = []
    node = m.get("scenes")
    if node is None or not node.is_list() or not node.value:
        c.fail(node or root, "the show needs `scenes:`, a list of at least one scene")
    else:
        names: dict[str, str] = {}
        for i, item in enumerate(node.value):
            scene = _scene(c, item, defaults, size, persons, checked, i)
            if scene is None:
                continue
            if scene.name in names:
                c.fail(item, f"two scenes are called {scene.name!r} (the first at {names[scene.name]}); "
                             "name each scene once, so cues can name them")
            names.setdefault(scene.name, item.where)
            scenes.append(scene)
    if loop and any(s.hold for s in scenes):
        c.fail(m["loop"], "a looping show cannot hold for GO; drop `loop: true` or the hold scenes")
    if c.problems:
        raise ShowError(c.problems)
    return Show(title=title, width=size[0], height=size[1], rate=rate, background=background, registry=reg_path,
                scenes=tuple(scenes), loop=loop, source_text=source.text, path=Path(path).resolve(),
                included=source.included())
