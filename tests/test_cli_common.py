"""training/cli_common.py: the validators, --device, -o/--out and the one-line refusal, through real parsers and the
real dispatcher."""

import argparse
import math
import re
import textwrap
from fractions import Fraction

import pytest
import torch

from likeness.cli import build_parser, main
from training import cli_common as cc
from training.devices import resolve_device
from training.errors import UsageError

DEVICE_WORDS = "--device: 'foo' is not a device; use auto, cpu, cuda or cuda:N"


def refusal(capsys, parser: argparse.ArgumentParser, argv: list[str]) -> str:
    """The one line a parser prints when it refuses argv (exit 2)."""
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(argv)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def parser_with(validator) -> argparse.ArgumentParser:
    parser = cc.CommandParser(prog="likeness t")
    parser.add_argument("--v", type=validator)
    return parser


@pytest.mark.parametrize("validator, good, bad", [
    (cc.finite_float, [("-2.5", -2.5), ("0", 0.0), ("1e3", 1000.0)], ["nan", "inf", "-inf", "x", ""]),
    (cc.positive_float, [("0.001", 0.001), ("7", 7.0)], ["0", "-1", "nan", "inf"]),
    (cc.non_negative_float, [("0", 0.0), ("3.5", 3.5)], ["-0.5", "nan", "inf"]),
    (cc.positive_int, [("1", 1), ("64", 64)], ["0", "-3", "2.5", "nan", "one"]),
    (cc.non_negative_int, [("0", 0), ("9", 9)], ["-1", "1.0", "inf"]),
    (cc.int_between(0, 9), [("0", 0), ("9", 9)], ["-1", "10", "5.5"]),
    (cc.float_between(0, 100, inclusive=False), [("0.5", 0.5), ("99.9", 99.9)], ["0", "100", "nan"]),
    (cc.SEED, [("0", 0), ("4294967295", 2 ** 32 - 1)], ["-1", "4294967296"]),
    (cc.power_of_two(4, 2048), [("4", 4), ("256", 256), ("2048", 2048)], ["2", "100", "4096", "big", "0"]),
    (cc.rate, [("10", Fraction(10)), ("29.97", Fraction(2997, 100)), ("30000/1001", Fraction(30000, 1001))],
     ["0", "-1", "ten", "1/0", "nan", "inf"]),
    (cc.size_wh, [("1920x1080", (1920, 1080)), ("64X48", (64, 48))], ["1920", "0x10", "axb", "10x-3"]),
])
def test_validators(capsys, validator, good, bad):
    parser = parser_with(validator)
    for text, value in good:
        got = parser.parse_args(["--v", text]).v
        assert got == value and type(got) is type(value), (text, got)
    for text in bad:
        line = refusal(capsys, parser, [f"--v={text}"])
        assert line.startswith("likeness t: error: --v: "), line


def test_floats_refuse_what_python_accepts():
    """float() takes 'nan' and 'inf' happily: the reason the validators exist."""
    assert math.isnan(float("nan")) and math.isinf(float("inf"))
    for text in ("nan", "inf", "-inf", "NaN", "Infinity"):
        with pytest.raises(argparse.ArgumentTypeError):
            cc.finite_float(text)


def commands_with_device() -> list[list[str]]:
    """The path (e.g. ['generate'] or ['dataset', 'info']) to every subcommand that has a --device flag."""
    found = []

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + [name])
            elif "--device" in action.option_strings:
                found.append(path)

    walk(build_parser(), [])
    return found


def test_every_bad_device_is_the_same_line(capsys):
    paths = commands_with_device()
    assert {p[0] for p in paths} >= {"train", "generate", "fid", "evaluate", "report"}
    for path in paths:
        with pytest.raises(SystemExit) as exit_info:
            main([*path, "--device", "foo"])
        assert exit_info.value.code == 2
        assert capsys.readouterr().err == f"likeness {' '.join(path)}: error: {DEVICE_WORDS}\n"
    # a library given the same name (EvaluateOptions(device="foo"), a script) says the same words
    with pytest.raises(UsageError) as err:
        resolve_device("foo")
    assert str(err.value) == DEVICE_WORDS


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a GPU")
def test_a_gpu_that_is_not_there(capsys, tmp_path):
    code = main(["generate", str(tmp_path / "model.pt"), "--seeds", "1", "-o", str(tmp_path / "x"),
                 "--device", "cuda"])
    err = capsys.readouterr().err
    assert code == 2 and err == "likeness generate: error: --device cuda asks for a GPU but PyTorch sees none " \
                                "here; use --device cpu\n"
    assert not (tmp_path / "x").exists()


def test_device_names():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available()
                                                                            else "cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    for name in ("gpu", "cuda:", "cuda:x", "CPU", "cpu:0 "):
        with pytest.raises(UsageError, match="is not a device"):
            resolve_device(name)


def test_output_flag_and_its_old_spelling(capsys):
    sub = cc.CommandParser(prog="likeness").add_subparsers(dest="command")
    p = cc.add_command(sub, "thing", lambda args: 0, help="h", description="d")
    cc.add_output_flag(p, required=True, metavar="DIR", help="where to write")
    assert p.parse_args(["-o", "a"]).out == "a"
    assert p.parse_args(["--out", "b"]).out == "b"
    assert p.parse_args(["--outdir", "c"]).out == "c"  # scripts written before the rename keep working
    text = p.format_help()
    assert "-o DIR, --out DIR" in text and "--outdir" not in text
    assert refusal(capsys, p, []) == "likeness thing: error: one of the arguments -o/--out is required"
    q = cc.add_command(sub, "other", lambda args: 0, help="h", description="d")
    cc.add_output_flag(q, default="here", metavar="DIR", help="where")
    assert q.parse_args([]).out == "here" and q.parse_args(["--outdir", "x"]).out == "x"


def test_every_command_takes_out_for_its_output():
    for path, flag in (("generate", "--outdir"), ("demo", "--outdir"), ("train", "--outdir")):
        args = build_parser().parse_args([path, *(["M", "--seeds", "1"] if path == "generate" else []),
                                          flag, "somewhere"])
        assert args.out == "somewhere"
    for path in (["prepare", "x.mp4", "--person", "p"], ["import", "x.pkl"]):
        assert build_parser().parse_args([*path, "-o", "y"]).out == "y"


def test_quiet_and_torchrun_exit(monkeypatch):
    p = cc.CommandParser(prog="likeness t")
    cc.add_quiet_flag(p)
    assert cc.shows_progress(p.parse_args([])) and not cc.shows_progress(p.parse_args(["-q"]))
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not cc.under_torchrun() and cc.exit_after_torchrun(3) == 3
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert cc.under_torchrun()


def test_the_guide_example_builds_a_working_command(capsys):
    """The 15-line example in cli_common's docstring is real code: it registers and parses as written."""
    example = re.search(r"\n(    from training import cli_common as cc\n(?:(?:    .*)?\n)*)", cc.__doc__).group(1)
    namespace: dict = {}
    exec(textwrap.dedent(example), namespace)
    assert example.rstrip().endswith("return 0") and len(textwrap.dedent(example).strip().splitlines()) <= 17
    parser = cc.CommandParser(prog="likeness")
    sub = parser.add_subparsers(dest="command", required=True)
    namespace["add_parser"](sub)
    args = parser.parse_args(["thumbs", "m.pt", "-o", "sheet.png", "--count", "4", "-q", "--device", "cpu"])
    assert (args.model, args.out, args.count, args.device, args.quiet) == ("m.pt", "sheet.png", 4, "cpu", True)
    assert args.func is namespace["run"]
    assert refusal(capsys, parser, ["thumbs", "m.pt", "-o", "s.png", "--count", "0"]) == \
        "likeness thumbs: error: --count: must be at least 1, got 0"
