"""How every benchmark reports: one JSON line per measurement on stdout, appended to --out when given."""

from __future__ import annotations

import json
from pathlib import Path


def emit(line: dict, out: Path | None) -> None:
    text = json.dumps(line)
    print(text, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(text + "\n")
