"""The subcommands `installation` owns. Each command module only builds its parser here; heavy imports happen when
the command runs, so `likeness --help` stays instant. `likeness/cli.py` registers them (see
training/cli_common.py for how to add one)."""

from __future__ import annotations

COMMAND_MODULES: list[str] = ["installation.cli_demo", "installation.cli_demo_model", "installation.cli_preview", "installation.cli_check",
                             "installation.cli_training_film", "installation.cli_osc", "installation.cli_export",
                             "installation.cli_show"]
