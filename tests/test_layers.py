"""The layer rule, checked from the source: `installation` may import `evaluation` and `training`, `evaluation` may
import `training`, `training` imports neither; only command-line modules (`cli*.py`, and likeness/cli.py, the
dispatcher) import argparse. Every import counts, also the ones inside functions."""

import ast
from pathlib import Path

import pytest

from conftest import ROOT

LAYERS = {"training": 0, "evaluation": 1, "installation": 2, "likeness": 3}
# Modules that import argparse for something other than a command line, and why.
ARGPARSE_ALLOWED = {
    "training/importers/importing.py": "rosinality checkpoints pickle an argparse.Namespace; the safe loader "
                                       "allows exactly that class",
}


def imported_modules(source: str, module: str) -> list[str]:
    """Absolute names of everything `source` (the module `module`, dotted) imports, relative imports resolved."""
    names = []
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.append(".".join(base + ([node.module] if node.module else [])))
            else:
                names.append(node.module)
    return names


def problems(path: str, source: str) -> list[str]:
    """What breaks the rules in one file (`path` relative to the repository, e.g. 'training/loop.py')."""
    parts = Path(path).with_suffix("").parts  # a package's __init__ keeps its name: its imports resolve the same
    own = LAYERS[parts[0]]
    found = []
    for name in imported_modules(source, ".".join(parts)):
        top = name.split(".")[0]
        if top in LAYERS and LAYERS[top] > own:
            found.append(f"{path} imports {name}: {parts[0]} must not import {top}")
        is_cli = Path(path).name.startswith("cli") or path == "likeness/cli.py"
        if top == "argparse" and not is_cli and path not in ARGPARSE_ALLOWED:
            found.append(f"{path} imports argparse: only the packages' cli*.py modules parse command lines")
    return found


def project_files() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


def test_every_package_is_seen():
    files = project_files()
    assert {f.split("/")[0] for f in files} == set(LAYERS)
    assert "training/loop.py" in files and "evaluation/fid.py" in files and "installation/demo.py" in files


@pytest.mark.parametrize("path", project_files())
def test_layers_point_one_way(path):
    assert problems(path, (ROOT / path).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path, source, words", [
    ("training/loop.py", "def f():\n    from evaluation.fid import fid_from_stats\n", "training must not import "
     "evaluation"),
    ("evaluation/fid.py", "import installation.demo\n", "evaluation must not import installation"),
    ("training/footage/prepare.py", "from ...installation import demo\n", "imports installation"),
    ("evaluation/stats.py", "import argparse\n", "imports argparse"),
    ("installation/demo.py", "from argparse import Namespace\n", "imports argparse"),
])
def test_the_checker_finds_what_breaks_the_rules(path, source, words):
    found = problems(path, source)
    assert len(found) == 1 and words in found[0], found


@pytest.mark.parametrize("path, source", [
    ("installation/show.py", "import evaluation.registry\nimport training.networks\n"),
    ("evaluation/cli_x.py", "import argparse\n"),
    ("likeness/cli.py", "import argparse\nimport installation.cli\n"),
    ("training/footage/prepare.py", "from ..errors import UsageError\nfrom . import framing\n"),
])
def test_the_checker_allows_what_the_rules_allow(path, source):
    assert problems(path, source) == []
