"""Running the demo's steps as the real `likeness` commands, printed first, so a newcomer can copy any of them.

The commands run in this process (one torch import for the whole demo) through the same parsers the console
command builds; a step that fails stops the demo with that command's own one-line error.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from training.errors import LikenessError


class StepFailed(LikenessError):
    """A demo step's command failed; its own error is the message."""


class Steps:
    """Prints each command and runs it; keeps each phase's wall time for the summary."""

    def __init__(self, say: Callable[[str], None] = print):
        self.say = say
        self.phases: list[tuple[str, float]] = []
        self._parser = None  # built on the first step: it imports every command module

    def run(self, *argv: str | os.PathLike) -> None:
        words = [str(word) for word in argv]
        self.say(f"$ likeness {shlex.join(words)}")
        if self._parser is None:
            from installation.cli_commands import build_parser

            self._parser = build_parser()
        try:
            args = self._parser.parse_args(words)
        except SystemExit as stop:  # argparse has printed why
            raise StepFailed(f"`likeness {shlex.join(words)}` was refused (exit {stop.code})") from None
        try:
            code = int(args.func(args) or 0)
        except LikenessError as err:
            raise StepFailed(f"`likeness {shlex.join(words)}` failed: {err}") from err
        if code:
            raise StepFailed(f"`likeness {shlex.join(words)}` exited with {code}")

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.say("")
        self.say(f"== {name}")
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            self.phases.append((name, seconds))
            self.say(f"   ({name}: {seconds:.1f} s)")
