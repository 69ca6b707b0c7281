"""The subcommands `training` owns. Each command module only builds its parser here; heavy imports happen when
the command runs, so `likeness --help` stays instant. `likeness/cli.py` registers them (see
training/cli_common.py for how to add one)."""

from __future__ import annotations

COMMAND_MODULES: list[str] = [
    "training.footage.cli_prepare",
    "training.footage.cli_dataset",
    "training.cli_train",
    "training.importers.cli_import",
    "training.cli_generate",
]
