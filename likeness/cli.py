"""`likeness COMMAND ...`: collects each package's subcommands and turns user errors into one line and an exit code."""

from __future__ import annotations

import os
import sys

from installation.cli_commands import build_parser
from training.errors import LikenessError

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LikenessError as err:
        print(f"likeness {args.command}: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"likeness {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `likeness dataset info x.zip | head`: the reader left; stop quietly as Unix tools do.
        # Point stdout at /dev/null so the interpreter's final flush cannot raise again (Python's documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
