"""`likeness demo`: the whole first step on a bundled default, with no footage and no person needed.

It renders a synthetic sitter (training/footage/demo_clip.py), prepares the two datasets an artist makes from a session
(1 fps to pre-train, 10 fps to add detail) and verifies them, so a newcomer sees real files and real output of
every step in about half a minute. Outputs that already exist are kept, so a second run is instant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from training.errors import UsageError

PERSON = "Demo sitter (synthetic)"
RATES = (Fraction(1), Fraction(10))


def consent_note(seed: int) -> str:
    return (f"Synthetic subject: drawn by `likeness demo` (training/footage/demo_clip.py, seed {seed}); no real person "
            "is depicted, so no consent is needed, and none was recorded.")


@dataclass
class DemoSettings:
    outdir: Path
    size: int = 256
    duration: float = 30.0
    seed: int = 0
    force: bool = False
    progress: bool = True


def demo_paths(settings: DemoSettings) -> tuple[Path, list[Path]]:
    out = settings.outdir
    return out / "sitter.mp4", [out / f"sitter-{rate}fps-{settings.size}px.zip" for rate in RATES]


def run_demo(settings: DemoSettings, say: Callable[[str], None] = print) -> list[Path]:
    """Make (or keep) the clip and both datasets, then print what `likeness dataset info` says of each."""
    from training.footage.dataset_info import format_report, inspect_dataset
    from training.footage.demo_clip import write_demo_clip
    from training.footage.prepare import PrepareOptions, prepare
    from training.footage.prepare_report import report_lines

    if settings.duration <= 0:
        raise UsageError("--duration must be above zero seconds")
    out = settings.outdir
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for --outdir")
    out.mkdir(parents=True, exist_ok=True)
    clip, datasets = demo_paths(settings)
    remade = settings.force or not clip.exists()
    if remade:
        say(f"rendering a {settings.duration:g} s synthetic sitter (seed {settings.seed}) to {clip} ...")
        write_demo_clip(clip, duration=settings.duration, seed=settings.seed, progress=settings.progress)
    else:
        say(f"keeping {clip} (made by an earlier run; pass --force to render it again)")
    for rate, path in zip(RATES, datasets):
        if path.exists() and not remade:
            say(f"keeping {path} (made by an earlier run; pass --force to prepare it again)")
            continue
        options = PrepareOptions(inputs=[str(clip)], output=str(path), person=PERSON,
                                 consent=consent_note(settings.seed), fps=rate, size=settings.size, force=True,
                                 progress=settings.progress)
        for line in report_lines(prepare(options), options):
            say(line)
    for path in datasets:
        say("")
        say(f"$ likeness dataset info {path}")
        for line in format_report(inspect_dataset(path, progress=False)):
            say(line)
    return [clip, *datasets]
