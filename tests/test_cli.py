from conftest import run_cli

import training


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"likeness {training.__version__}"
    result = run_cli("--help")
    assert result.returncode == 0 and "usage: likeness" in result.stdout


def test_unknown_command_is_a_usage_error():
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
