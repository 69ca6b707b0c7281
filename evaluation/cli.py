"""The subcommands `evaluation` owns. Each command module only builds its parser here; heavy imports happen when
the command runs, so `likeness --help` stays instant. `likeness/cli.py` registers them (see
training/cli_common.py for how to add one)."""

from __future__ import annotations

COMMAND_MODULES: list[str] = ["evaluation.cli_fid", "evaluation.cli_evaluate", "evaluation.cli_gate"]
