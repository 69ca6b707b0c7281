"""The renderer's log: one line per event a performer or technician should know of, on stderr.

A running show never stops for a problem it can draw around (a model that fails, a bad control message); it says
so here, once, and keeps drawing.
"""

from __future__ import annotations

import logging
import sys

LOGGER = "likeness.render"


def setup_logging(level: int = logging.INFO) -> logging.Logger:
    """Lines as `likeness: ...` on stderr (idempotent: a second call adds no second handler)."""
    log = logging.getLogger(LOGGER)
    if not any(getattr(h, "_likeness", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("likeness: %(message)s"))
        handler._likeness = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(level)
    return log
