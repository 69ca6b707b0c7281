"""The whole `likeness` command line: every package's subcommands under one parser.

It lives here, in the top package the commands come from, so that `likeness/cli.py` (the console entry) and the
demo (which runs its steps in-process, through exactly the parser a user's shell reaches) build the same one."""

from __future__ import annotations

import argparse

import evaluation.cli
import installation.cli
import training
import training.cli
from training.cli_common import CommandParser, register_commands

DESCRIPTION = ("Portrait installations with StyleGAN2: footage -> datasets -> one model per sitter -> FID gate -> "
               "shows performed live and exported as films.")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="likeness", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"likeness {training.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for package_cli in (training.cli, evaluation.cli, installation.cli):
        register_commands(sub, package_cli.COMMAND_MODULES)
    return parser
