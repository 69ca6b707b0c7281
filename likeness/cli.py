"""`likeness COMMAND ...`: collects each package's subcommands and turns user errors into one line and an exit code."""

from __future__ import annotations

import argparse
import os
import sys

import evaluation.cli
import installation.cli
import training
import training.cli
from training.cli_common import CommandParser, register_commands
from training.errors import LikenessError


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="likeness",
        description="Portrait installations with StyleGAN2: footage -> datasets -> one model per sitter -> "
        "FID gate -> shows performed live and exported as films.",
    )
    parser.add_argument("--version", action="version", version=f"likeness {training.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for package_cli in (training.cli, evaluation.cli, installation.cli):
        register_commands(sub, package_cli.COMMAND_MODULES)
    return parser


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
