"""The subcommands `training` owns. Each command module only builds its parser here; heavy imports happen when
the command runs, so `likeness --help` stays instant."""

from __future__ import annotations

import argparse

COMMAND_MODULES: list[str] = [
    "training.footage.cli_prepare",
    "training.footage.cli_dataset",
    "training.cli_train",
    "training.importers.cli_import",
    "training.cli_generate",
]


def register(subparsers: argparse._SubParsersAction) -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
