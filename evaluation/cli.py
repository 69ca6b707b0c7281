"""The subcommands `evaluation` owns. Each command module only builds its parser here; heavy imports happen when
the command runs, so `likeness --help` stays instant."""

from __future__ import annotations

import argparse

COMMAND_MODULES: list[str] = ["evaluation.cli_fid", "evaluation.cli_evaluate", "evaluation.cli_gate"]


def register(subparsers: argparse._SubParsersAction) -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
