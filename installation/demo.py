"""`likeness demo`: the whole path, small, on three invented sitters, ending in a film.

Footage (training/footage/demo_clip.py stands in for the filming) -> `likeness prepare` (1 fps and 10 fps sets) ->
`likeness train` (pre-train from the bundled model, then fine-tune) -> `likeness evaluate` (a quick FID) ->
`likeness gate` -> `likeness check` and `likeness export` of the demo show. Every step after the footage is printed
as the command it runs, so the demo doubles as a worked example. What exists is kept (a second run takes seconds);
`--force` makes everything again.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from installation.demo_sitters import CAST, SMALL_NETWORKS, Sitter, consent_note
from installation.demo_steps import Steps
from training.errors import UsageError

ASSETS = Path(__file__).resolve().parent / "demo_assets"
BUNDLED_MODEL = ASSETS / "demo-model.pt"
DEMO_SHOW = ASSETS / "show.yaml"
RATES = (1, 10)
# A quick FID (64 fakes against ~120 frames of 32 px faces) carries a large small-sample bias, so the demo's rule
# sits far above a real project's (near 30 with 50,000 fakes). Measured with the bundled model (CPU budget,
# 2026-12-04): fine-tuned Ada 293, Bruno 217; Chiara, 32 images from scratch, 379. 340 lies between them with
# about 40 to spare on either side.
QUICK_FID_MAX = 340
GATE_RULES = f"""\
# Written by `likeness demo`. The demo's FIDs are quick estimates (few fakes, tiny frames), far above what a real
# run's FID would be, so its threshold is far above a real project's (there: fid_max near 30, 50,000 fakes).
# It still tells a fine-tuned sitter from one that is only noise.
fid_max: {QUICK_FID_MAX}
"""


@dataclass
class DemoSettings:
    outdir: Path
    duration: float = 12.0  # seconds of footage per sitter
    device: str = "auto"
    force: bool = False
    progress: bool = True
    budget: "Budget | None" = None  # None: by the device (tests pass a smaller one)


@dataclass
class Budget:
    """How much the demo trains and measures: a few CPU minutes, or more on a GPU."""

    kimg_scale: float
    num_fakes: int
    workers: int

    @classmethod
    def for_device(cls, device: str) -> "Budget":
        from training.devices import resolve_device

        if resolve_device(device).type == "cuda":
            return cls(kimg_scale=40.0, num_fakes=1000, workers=3)
        return cls(kimg_scale=1.0, num_fakes=64, workers=0)


@dataclass
class DemoResult:
    outdir: Path
    film: Path
    registry: Path
    show: Path
    phases: list[tuple[str, float]] = field(default_factory=list)


def _kimg(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _newest_run(runs: Path, sitter: Sitter, dataset: Path) -> Path | None:
    """The newest run folder of this sitter trained on `dataset` that reached its last snapshot."""
    from training.run_folder import list_snapshots

    folder = runs / sitter.name
    candidates = sorted(folder.glob(f"*-{dataset.stem}-*")) if folder.is_dir() else []
    done = [run for run in candidates if (run / "done.json").exists() or list_snapshots(run)]
    return done[-1] if done else None


class Demo:
    def __init__(self, settings: DemoSettings, say: Callable[[str], None]):
        self.settings = settings
        self.out = settings.outdir
        self.say = say
        self.steps = Steps(say)
        self.budget = settings.budget or Budget.for_device(settings.device)
        self.quiet = () if settings.progress else ("-q",)

    def keep(self, path: Path) -> bool:
        if path.exists():
            self.say(f"keeping {path} (made by an earlier run; --force makes it again)")
            return True
        return False

    def footage(self, sitter: Sitter) -> Path:
        from training.footage.demo_clip import write_demo_clip

        clip = self.out / "footage" / f"{sitter.slug}.mp4"
        if not self.keep(clip):
            self.say(f"filming {sitter.name}: {self.settings.duration:g} s at {sitter.width}x{sitter.height}, "
                     f"invented by training/footage/demo_clip.py (seed {sitter.seed})")
            clip.parent.mkdir(parents=True, exist_ok=True)
            write_demo_clip(clip, duration=self.settings.duration, width=sitter.width, height=sitter.height,
                            seed=sitter.seed)
        return clip

    def dataset(self, sitter: Sitter, clip: Path, rate: int, size: int) -> Path:
        path = self.out / "datasets" / f"{sitter.slug}-{rate}fps.zip"
        if not self.keep(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            self.steps.run("prepare", clip, "--person", sitter.name, "--consent", consent_note(sitter),
                           "--fps", str(rate), "--size", str(size), "--fit", sitter.fit, "-o", path, *self.quiet)
        return path

    def train(self, sitter: Sitter, data: Path, kimg: float, init: Path | None, extra: tuple[str, ...]) -> Path:
        from training.run_folder import list_snapshots

        runs = self.out / "runs"
        run = _newest_run(runs, sitter, data)
        if run is not None:
            self.say(f"keeping {run} (trained by an earlier run; --force trains again)")
        else:
            amount = _kimg(kimg * self.budget.kimg_scale)
            init_flags = ("--init", init) if init is not None else SMALL_NETWORKS
            self.steps.run("train", "--data", data, "-o", runs, *init_flags, "--kimg", amount, "--snap", amount,
                           "--tick", _kimg(float(amount) / 4), "--workers", str(self.budget.workers),
                           "--device", self.settings.device, *extra, *self.quiet)
            run = _newest_run(runs, sitter, data)
            if run is None:
                raise UsageError(f"training {sitter.name} left no snapshot under {runs}")
        return list_snapshots(run)[-1]

    def evaluate(self, sitter: Sitter, snapshot: Path, reals: Path) -> None:
        run = snapshot.parent
        if self.keep(run / "metrics.jsonl"):
            return
        self.say(f"a quick estimate: {self.budget.num_fakes} fakes against the {reals.name} frames (a real "
                 "evaluation uses 50,000 fakes; with so few, FID reads far higher than it would)")
        self.steps.run("evaluate", run, "--snapshot", snapshot.name, "--data", reals, "--metrics", "fid",
                       "--num-fakes", str(self.budget.num_fakes), "--device", self.settings.device, *self.quiet)


# Fine-tuning settings: the preset's learning rate with more R1 than the 32 px rule gives, chosen by eye on the
# film and the fakes grids (docs/demo.md, "Fine-tuning settings"). A tenth of that rate moved G so little in a few
# hundred images that every fine-tuned sitter still looked like the bundled model's population.
FINETUNE = ("--glr", "0.0025", "--dlr", "0.0025", "--gamma", "0.5")


def made_files(out: Path) -> list[Path]:
    """Every file the demo writes by name (run folders aside): what --force replaces, and nothing else."""
    files = [out / "footage" / f"{sitter.slug}.mp4" for sitter in CAST]
    files += [out / "datasets" / f"{sitter.slug}-{rate}fps.zip" for sitter in CAST for rate in RATES]
    return files + [out / name for name in ("gate.yaml", "registry.yaml", "show.yaml", "film.mp4", "film.mp4.json")]


def check_nothing_in_the_way(out: Path) -> None:
    for path in made_files(out):
        if path.is_dir():
            raise UsageError(f"{path} is a folder; --force replaces a file, never a folder: move it away")


def _clear(out: Path, say: Callable[[str], None]) -> None:
    for path in made_files(out):
        path.unlink(missing_ok=True)
    for sitter in CAST:
        shutil.rmtree(out / "runs" / sitter.name, ignore_errors=True)
    say(f"--force: removed what earlier demo runs made in {out}")


def run_demo(settings: DemoSettings, say: Callable[[str], None] = print) -> DemoResult:
    """Run every step (or keep what an earlier run made) and print where everything is."""
    from training.checkpoint import load_checkpoint

    out = settings.outdir
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for --out")
    if not BUNDLED_MODEL.exists():
        raise UsageError(f"the bundled demo model is missing ({BUNDLED_MODEL}); reinstall likeness, or train one "
                         "with `likeness demo-model` (docs/demo.md)")
    out.mkdir(parents=True, exist_ok=True)
    check_nothing_in_the_way(out)
    if settings.force:
        _clear(out, say)
    started = time.perf_counter()
    demo = Demo(settings, say)
    steps = demo.steps
    size = int(load_checkpoint(BUNDLED_MODEL)["G_kwargs"]["img_resolution"])
    say(f"likeness demo: three invented sitters, from footage to a film, in {out}/")

    with steps.phase("film the sitters"):
        clips = {sitter.name: demo.footage(sitter) for sitter in CAST}
    with steps.phase("prepare the datasets (1 fps to pre-train, 10 fps to add detail)"):
        sets = {sitter.name: {rate: demo.dataset(sitter, clips[sitter.name], rate, size) for rate in RATES}
                for sitter in CAST}
    finals: dict[str, Path] = {}
    with steps.phase("train one model per sitter"):
        for sitter in CAST:
            init = BUNDLED_MODEL if sitter.from_bundled_model else None
            extra = FINETUNE if init is not None else ()
            final = demo.train(sitter, sets[sitter.name][1], sitter.pretrain_kimg, init, extra)
            if sitter.finetune_kimg:
                final = demo.train(sitter, sets[sitter.name][10], sitter.finetune_kimg, final, FINETUNE)
            else:
                say(f"{sitter.name}: deliberately under-trained ({sitter.pretrain_kimg * 1000:g} images from "
                    "scratch), so that the gate has someone to exclude")
            finals[sitter.name] = final
    with steps.phase("evaluate (quick FID estimates)"):
        for sitter in CAST:
            demo.evaluate(sitter, finals[sitter.name], sets[sitter.name][10])
    registry = out / "registry.yaml"
    with steps.phase("gate: approve or exclude each sitter"):
        rules = out / "gate.yaml"
        if not rules.exists():
            rules.write_text(GATE_RULES, encoding="utf-8")
        steps.run("gate", "--rules", rules, out / "runs", "--registry", registry)
    show, film = out / "show.yaml", out / "film.mp4"
    with steps.phase("check and export the demo show"):
        if not show.exists():
            shutil.copyfile(DEMO_SHOW, show)
        steps.run("check", show)
        if not demo.keep(film):
            steps.run("export", show, "-o", film, "--device", settings.device, *demo.quiet)
    total = time.perf_counter() - started
    result = DemoResult(outdir=out, film=film, registry=registry, show=show, phases=steps.phases)
    for line in summary_lines(result, total):
        say(line)
    return result


def summary_lines(result: DemoResult, total: float) -> list[str]:
    out = result.outdir
    lines = ["", "== done", "phase times:"]
    lines += [f"  {seconds:7.1f} s  {name}" for name, seconds in result.phases]
    lines += [f"  {total:7.1f} s  in all", "", "what the demo left behind:"]
    lines += _columns([(str(result.film), "the film (grid, then filmstrip) of the approved sitters"),
                       (f"{out / 'footage'}/", "the invented sitters' footage (stands in for your filming)"),
                       (f"{out / 'datasets'}/", "1 fps and 10 fps dataset zips (likeness dataset info FILE)"),
                       (f"{out / 'runs'}/", "one run folder per training step: fakes grids, snapshots, report.html"),
                       (str(result.registry), "who the gate approved and who it excluded, and why"),
                       (str(result.show), "the show: edit it, then check and export again")])
    lines += ["", "next:"]
    lines += _columns([(f"likeness show {result.show}", "play it live in a window (OSC on)"),
                       (f"likeness preview {result.registry}", "every approved sitter at once"),
                       (f"likeness export {result.show} -o film-1080p.mp4 --size 1920x1080",
                        "the film at another size"),
                       ("likeness demo --force", "make everything again")])
    return lines


def _columns(rows: list[tuple[str, str]]) -> list[str]:
    """Two columns, the second aligned whatever the output folder's name is."""
    width = max(len(left) for left, _ in rows) + 3
    return [f"  {left:<{width}}{right}" for left, right in rows]
