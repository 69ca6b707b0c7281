"""The address-space table (osc_space.ADDRESSES) published: the docs section, OSCQuery JSON, and its HTTP server.

`markdown_section()` is the `## OSC address space` section of shows/README.md; `python -m installation.osc_publish
shows/README.md` rewrites that section in place (and a test fails when the file and the table disagree).
`oscquery_tree(limits, values)` is the namespace as OSCQuery (https://github.com/Vidvox/OSCQueryProposal) describes
it: TYPE, RANGE, ACCESS, DESCRIPTION and current VALUE per address, so control apps can build their faders from it.
`OscQueryServer` serves it over HTTP on loopback only.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from installation.control import PREFIX, ControlLimits, ControlState, direction_at, scene_at, truncation_at, value_at
from installation.osc_space import ADDRESSES, Address, Param, usage

HEADING = "## OSC address space"

INTRO = """\
A running show listens for OSC on 127.0.0.1:9000 (`likeness show --osc HOST:PORT`; binding anything but loopback
needs `--osc-allow CIDR...`, and packets from other addresses are dropped and counted). Every address is under
`/likeness/`. Controls marked *glide* take an optional last argument, GLIDE seconds, over which the value eases
(smoothstep) from where it is to where it is sent, so a fader move is not a step. Integers may be sent as OSC
floats with a whole value (many controllers send only floats); 0/1 flags also accept OSC true/false. Bundles are
honoured: an immediate timetag applies at once, a future one at that wall-clock time. Unknown addresses, wrong
argument types or counts and out-of-range values are logged (one line per kind every few seconds, with counts)
and ignored. Nothing received names a file or text to evaluate. Every applied control is recorded with its show
time in `performances/<UTC timestamp>.jsonl`, for `likeness export --replay`. Try any of them with
`likeness osc ADDRESS [ARGS...]` (for example `likeness osc /likeness/speed 0.5 4`).
"""

_KIND_WORD = {"int": "int", "float": "float", "flag": "0/1", "scene": "int or name", "person": "name", "str": "text"}


def _param_cell(p: Param) -> str:
    text = f"`{p.name.upper()}` {_KIND_WORD[p.kind]}"
    if p.range_doc:
        text += f", {p.range_doc}"
    return text + (" (optional)" if p.optional else "")


def markdown_section() -> str:
    """The docs section, from the table (its heading included; ends with a newline)."""
    rows = ["| Address | Arguments | Glide | What it does |", "|---|---|---|---|"]
    for row in ADDRESSES:
        cells = "; ".join(_param_cell(p) for p in row.params) or "none"
        rows.append(f"| `{usage(row)}` | {cells} | {'yes' if row.glide else ''} | {row.help} |")
    return f"{HEADING}\n\n<!-- generated from installation/osc_space.py by `python -m installation.osc_publish " \
           f"shows/README.md`; edit the table there -->\n\n{INTRO}\n" + "\n".join(rows) + "\n"


def replace_section(text: str, section: str) -> str:
    """`text` with its `## OSC address space` section (up to the next `## ` heading) replaced, or appended."""
    start = text.find(HEADING + "\n")
    if start < 0:
        return (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    end = text.find("\n## ", start + len(HEADING))
    tail = text[end + 1:] if end >= 0 else ""
    return text[:start] + section + ("\n" + tail if tail else "")


# -- OSCQuery ------------------------------------------------------------------------------------------------------

_OSC_TYPE = {"int": "i", "float": "f", "flag": "i", "scene": "i", "person": "s", "str": "s"}


def _range(p: Param, limits: ControlLimits | None) -> dict:
    if p.kind == "flag":
        return {"VALS": [0, 1]}
    if p.kind == "person" and limits is not None:
        return {"VALS": list(limits.people)}
    lo, hi = p.bounds(limits)
    return {k: v for k, v in (("MIN", lo), ("MAX", hi)) if v is not None}


def _leaf(row: Address, path: str, limits: ControlLimits | None, values: dict[str, list]) -> dict:
    params = row.all_params()
    node = {"FULL_PATH": path, "DESCRIPTION": row.help, "ACCESS": 2 if path not in values else 3}
    if params:
        node["TYPE"] = "".join(_OSC_TYPE[p.kind] for p in params)
        node["RANGE"] = [_range(p, limits) for p in params]
    if path in values:   # one entry per argument; null where an argument has no standing value (a glide time)
        node["VALUE"] = (list(values[path]) + [None] * len(params))[:len(params)]
    return node


def _insert(root: dict, path: str, node: dict) -> None:
    parts = path.strip("/").split("/")
    here = root
    for depth, part in enumerate(parts[:-1]):
        here = here.setdefault("CONTENTS", {}).setdefault(
            part, {"FULL_PATH": "/" + "/".join(parts[:depth + 1]), "ACCESS": 0})
    existing = here.setdefault("CONTENTS", {}).get(parts[-1])
    if existing and "CONTENTS" in existing:   # `fade` is a control and the parent of `fade/in`
        node = {**node, "CONTENTS": existing["CONTENTS"]}
    here["CONTENTS"][parts[-1]] = node


def oscquery_tree(limits: ControlLimits | None = None, values: dict[str, list] | None = None) -> dict:
    """The whole namespace as OSCQuery JSON; direction/K is listed once per direction of the show."""
    values = values or {}
    root: dict = {"FULL_PATH": "/", "ACCESS": 0, "DESCRIPTION": "likeness live show"}
    for row in ADDRESSES:
        if row.path == "direction/K":
            for k in range(limits.directions if limits is not None else 0):
                _insert(root, f"{PREFIX}direction/{k}", _leaf(row, f"{PREFIX}direction/{k}", limits, values))
            continue
        _insert(root, row.full, _leaf(row, row.full, limits, values))
    return root


def current_values(state: ControlState, t: float, limits: ControlLimits) -> dict[str, list]:
    """Each control's value at show time t, as OSCQuery's VALUE lists it."""
    scene = scene_at(state, t, limits)
    values = {
        PREFIX + "scene/goto": [scene.index],
        PREFIX + "pause": [int(state.paused)],
        PREFIX + "freeze": [int(state.frozen)],
        PREFIX + "speed": [value_at(state.speed, t)],
        PREFIX + "truncation": [truncation_at(state, t, limits)],
        PREFIX + "blackout": [int(state.blackout)],
        PREFIX + "reseed": [state.reseed],
        PREFIX + "filmstrip/speed": [value_at(state.filmstrip_speed, t) if state.filmstrip_speed else 1.0],
    }
    for name, value in (("grid/rows", state.grid_rows), ("grid/cols", state.grid_cols),
                        ("filmstrip/frames", state.filmstrip_frames)):
        if value is not None:
            values[PREFIX + name] = [value]
    for k in range(limits.directions):
        values[f"{PREFIX}direction/{k}"] = [direction_at(state, k, t)]
    return values


def host_info(name: str, osc_port: int) -> dict:
    return {"NAME": name, "OSC_PORT": osc_port, "OSC_TRANSPORT": "UDP", "OSC_IP": "127.0.0.1",
            "EXTENSIONS": {"ACCESS": True, "VALUE": True, "RANGE": True, "DESCRIPTION": True, "TYPE": True}}


def _find(tree: dict, path: str) -> dict | None:
    here = tree
    for part in [p for p in path.strip("/").split("/") if p]:
        here = here.get("CONTENTS", {}).get(part)
        if here is None:
            return None
    return here


class OscQueryServer:
    """OSCQuery over HTTP on 127.0.0.1:PORT in a daemon thread; `tree()` is called per request (current values)."""

    def __init__(self, port: int, tree: Callable[[], dict], osc_port: int, name: str = "likeness") -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                body = host_info(name, osc_port) if url.query == "HOST_INFO" else _find(outer.tree(), url.path)
                if body is None:
                    self.send_error(404, "no such OSC address")
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.tree = tree
        self._http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, name="likeness-oscquery", daemon=True)

    def start(self) -> "OscQueryServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> "OscQueryServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    """Rewrite the address-space section of the given Markdown file (shows/README.md) from the table."""
    path = Path(argv[0] if argv else "shows/README.md")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(replace_section(text, markdown_section()), encoding="utf-8")
    print(f"wrote the address-space section of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
