"""What every `likeness` subcommand shares: registration, value checks, `--device`, `-o/--out`, `-q/--quiet`.

How to add a subcommand
-----------------------
1. Write `PACKAGE/cli_NAME.py` with `add_parser(subparsers)` and `run(args) -> int`. Only the parser is built at
   import time; heavy imports (torch, av, moderngl) go inside `run`, so `likeness --help` stays instant. Choices
   and defaults the parser shows come from light modules (`installation/walk_kinds.py`,
   `training/footage/face_options.py`); tests/test_cli.py fails if building the parser imports torch.
2. Add "PACKAGE.cli_NAME" to `COMMAND_MODULES` in `PACKAGE/cli.py` (`installation/cli_commands.py` gathers them).
3. Check values with the `type=` validators below, not by hand: a bad value is refused with one line, exit 2.
   Output is `-o/--out` (`add_output_flag`), the device `--device` (`add_device_flag`, then `resolve_device`).
4. Refuse what argparse cannot see with `training.errors.UsageError` (the command line) or `DataError` (the
   inputs); the dispatcher prints one line. Build the library's options dataclass in `run` and call the library.

    from training import cli_common as cc

    def add_parser(subparsers) -> None:
        p = cc.add_command(subparsers, "thumbs", run, help="a contact sheet of a model's seeds",
                           description="Render seeds 0..N-1 of MODEL into one PNG.")
        p.add_argument("model", metavar="MODEL", help="likeness checkpoint (.pt)")
        p.add_argument("--count", type=cc.positive_int, default=16, metavar="N", help="images (default: 16)")
        cc.add_output_flag(p, required=True, metavar="PNG", help="the sheet to write")
        cc.add_device_flag(p)
        cc.add_quiet_flag(p)

    def run(args) -> int:
        from mypackage.thumbs import ThumbOptions, contact_sheet   # the library does the work

        device = cc.resolve_device(args.device)
        contact_sheet(ThumbOptions(args.model, args.count, args.out, cc.shows_progress(args)), device)
        return 0

What is here: `CommandParser` (refusals in one line), `register_commands`, `add_command`; validators
`finite_float`, `positive_float`, `non_negative_float`, `whole_number`, `positive_int`, `non_negative_int`,
`int_between(lo, hi)`, `float_between(lo, hi)`, `SEED`, `power_of_two(lo, hi)`, `rate`, `size_wh`,
`from_parser(parse, hint)`; flags `add_device_flag` + `resolve_device`, `add_output_flag`, `add_quiet_flag` +
`shows_progress`, `add_force_flag`; `under_torchrun`, `exit_after_torchrun`.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import re
import sys
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

# -- parsers and registration --------------------------------------------------------------------------------------


class CommandParser(argparse.ArgumentParser):
    """argparse, but a refused command line is one line on stderr (exit 2), as every other refusal is."""

    def error(self, message: str) -> None:  # type: ignore[override]
        message = re.sub(r"^argument ([^:]+): ", r"\1: ", message)
        self.exit(2, f"{self.prog}: error: {message}\n")


def register_commands(subparsers: argparse._SubParsersAction, module_names: Iterable[str]) -> None:
    """Import each command module and let it add its parser (each package lists its own in `cli.COMMAND_MODULES`)."""
    for name in module_names:
        importlib.import_module(name).add_parser(subparsers)


def add_command(subparsers: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int], *,
                help: str, description: str, epilog: str | None = None,
                usage: str | None = None) -> argparse.ArgumentParser:
    """One subcommand's parser, its text kept as written (RawDescription), `run` called with the parsed args."""
    parser = subparsers.add_parser(name, help=help, description=description, epilog=epilog, usage=usage,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=run)
    return parser


# -- value validators (argparse `type=`) ---------------------------------------------------------------------------


def finite_float(text: str) -> float:
    """Any real number; NaN and infinity refused."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def whole_number(text: str) -> int:
    """An integer written as one ('3', not '3.0')."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _at_least(convert: Callable[[str], Any], bound: int, *, above: bool, name: str, doc: str) -> Callable[[str], Any]:
    def check(text: str) -> Any:
        value = convert(text)
        if value < bound or (above and value == bound):
            raise argparse.ArgumentTypeError(f"must be {'above' if above else 'at least'} {bound}, got {text}")
        return value

    check.__name__, check.__doc__ = name, doc
    return check


positive_float = _at_least(finite_float, 0, above=True, name="positive_float", doc="A finite number above zero.")
non_negative_float = _at_least(finite_float, 0, above=False, name="non_negative_float",
                               doc="A finite number, zero or more.")
positive_int = _at_least(whole_number, 1, above=False, name="positive_int", doc="A whole number, 1 or more.")
non_negative_int = _at_least(whole_number, 0, above=False, name="non_negative_int", doc="A whole number, 0 or more.")


def int_between(lo: int, hi: int) -> Callable[[str], int]:
    """A validator for whole numbers from lo to hi inclusive (e.g. a PNG level 0-9, a seed below 2**32)."""

    def check(text: str) -> int:
        value = whole_number(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be from {lo} to {hi}, got {value}")
        return value

    check.__name__ = f"int_between_{lo}_{hi}"
    return check


def float_between(lo: float, hi: float, *, inclusive: bool = True) -> Callable[[str], float]:
    """A validator for finite numbers in [lo, hi], or in (lo, hi) with inclusive=False (e.g. a percentile)."""

    def check(text: str) -> float:
        value = finite_float(text)
        inside = lo <= value <= hi if inclusive else lo < value < hi
        if not inside:
            raise argparse.ArgumentTypeError(f"must be {'from' if inclusive else 'between'} {lo:g} "
                                             f"{'to' if inclusive else 'and'} {hi:g}, got {text}")
        return value

    check.__name__ = f"float_between_{lo:g}_{hi:g}"
    return check


SEED = int_between(0, 2 ** 32 - 1)
"""A random seed as NumPy and NVIDIA's tools take it: 0 <= seed < 2**32."""


def power_of_two(lo: int = 4, hi: int = 2048) -> Callable[[str], int]:
    """A validator for image sides: a power of two from lo to hi (StyleGAN2 builds one block per octave)."""
    sides = [1 << k for k in range(lo.bit_length() - 1, hi.bit_length()) if lo <= 1 << k <= hi]

    def check(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; use a power of two such as 256, "
                                             "512 or 1024") from None
        if value not in sides:
            raise argparse.ArgumentTypeError(f"{value} is not a power of two from {lo} to {hi} "
                                             f"({', '.join(map(str, sides))})")
        return value

    check.__name__ = "power_of_two"
    return check


def rate(text: str) -> Fraction:
    """A rate above zero, exactly: '10', '0.5', '29.97' or '30000/1001' -> Fraction (e.g. --fps)."""
    from training.footage.timecode import parse_rate

    try:
        return parse_rate(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{err}; use e.g. 1, 10, 12, 0.5 or 30000/1001") from None


def size_wh(text: str) -> tuple[int, int]:
    """A picture size 'WxH' (e.g. 1920x1080) -> (width, height), both at least 1."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size WIDTHxHEIGHT such as 1920x1080")
    return int(match.group(1)), int(match.group(2))


def from_parser(parse: Callable[[str], Any], hint: str) -> Callable[[str], Any]:
    """Turn a library parser that raises ValueError (a time code, a crop centre) into a validator with a hint."""

    def check(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{err}; {hint}") from None

    check.__name__ = getattr(parse, "__name__", "value")
    return check


# -- shared flags --------------------------------------------------------------------------------------------------


def device_name(text: str) -> str:
    """`--device` values: auto, cpu, cuda, cuda:N (whether the machine has it is checked by `resolve_device`)."""
    from training.devices import device_name_problem

    problem = device_name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)  # printed as the library's UsageError prints it: "--device: ..."
    return text


def add_device_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup, default: str = "auto",
                    help: str | None = None) -> None:
    """`--device NAME`, the same flag in every command; resolve it with `resolve_device(args.device)`."""
    parser.add_argument("--device", type=device_name, default=default, metavar="NAME",
                        help=help or f"where the networks run: auto (the GPU if there is one), cpu, cuda or cuda:N "
                        f"(default: {default})")


def resolve_device(name: Any = "auto", local_rank: int | None = None):
    """The torch.device for a `--device` value, or one UsageError line saying why this machine cannot give it."""
    from training.devices import resolve_device as resolve

    return resolve(name, local_rank)


def add_output_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, metavar: str, help: str,
                    required: bool = False, default: str | None = None,
                    old_names: tuple[str, ...] = ("--outdir",)) -> None:
    """`-o/--out PATH` (a file or a folder), stored in `args.out`; `old_names` still work but are not shown."""
    if required:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("-o", "--out", metavar=metavar, help=help)
        for old in old_names:
            group.add_argument(old, dest="out", metavar=metavar, help=argparse.SUPPRESS)
        return
    parser.add_argument("-o", "--out", metavar=metavar, default=default, help=help)
    for old in old_names:
        parser.add_argument(old, dest="out", metavar=metavar, default=default, help=argparse.SUPPRESS)


def add_quiet_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str = "no progress bar") -> None:
    """`-q/--quiet`: no progress bars (messages and results still print)."""
    parser.add_argument("-q", "--quiet", action="store_true", help=help)


def shows_progress(args: argparse.Namespace) -> bool:
    """Whether the command draws progress bars."""
    return not getattr(args, "quiet", False)


def add_force_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                   help: str = "replace the output if it exists") -> None:
    """`--force`: outputs are never overwritten without it."""
    parser.add_argument("--force", action="store_true", help=help)


# -- finishing -----------------------------------------------------------------------------------------------------


def under_torchrun() -> bool:
    """True in one of several processes started by torchrun (WORLD_SIZE > 1)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1") or 1) > 1
    except ValueError:
        return False


def exit_after_torchrun(code: int) -> int:
    """Return `code`; under torchrun, exit with it at once instead (call when everything is written).

    The process group is gone by then; skipping the interpreter's teardown avoids gloo's worker threads
    occasionally aborting a finished process (SIGABRT, "terminate called without an active exception"), which
    torchrun would report as a failed run after a successful one.
    """
    if not under_torchrun():
        return code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
