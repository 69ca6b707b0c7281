"""`likeness export show.yaml -o FILM`: the show rendered offscreen, frame by frame, into a film with its sidecar.

Frame k is the show at show time k / rate, drawn by the same `show_frame.render` the live show uses, under the
initial control state or, with a performance log (`--replay`), under the state the live show had at that time:
the same frames as the live show at the same show times, at any size. The film is written whole or not at all
(FilmWriter). Its container comment says, as compact JSON, which snapshots made it (name, sha256, FID, consent
note); the sidecar says that too, with the text of the show file and of every file it includes (docs/export.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from installation import control
from installation.film_writer import FilmMetadata, FilmWriter, check_film_output, sidecar_path, write_sidecar
from installation.show import Show
from training.atomic import check_output_free
from training.errors import UsageError

if TYPE_CHECKING:
    from installation.model_pool import PooledModel

MAX_COMMENT_BYTES = 60000  # mov cuts a text tag at 64 KiB without a word: longer consent notes stay in the sidecar


@dataclass
class ExportOptions:
    show: Path
    out: Path
    size: tuple[int, int] | None = None
    rate: Fraction | None = None
    codec: str = "h264"
    crf: int | None = None
    start: float = 0.0
    end: float | None = None
    replay: Path | None = None
    registry: Path | None = None
    force: bool = False
    progress: bool = True
    device: str = "cpu"
    allow_unapproved: bool = False


def frame_range(show: Show, rate: Fraction, start: float, end: float | None, replay_end: float | None
                ) -> range:
    """Frames k with start <= k / rate < end; the show's own frame count when no end is given."""
    if end is None:
        total = show.frame_count() if rate == show.rate else _count(show, rate)
        if total is None:
            if replay_end is None:
                raise UsageError("the show waits for GO in a hold scene, so it has no fixed length: give --to SECONDS "
                                 "(or --replay a performance log)")
            total = math.floor(replay_end * rate) + 1
    else:
        total = math.ceil(Fraction(end) * rate)
    first = math.ceil(Fraction(start) * rate)
    if first >= total:
        raise UsageError(f"--from {start:g} s is at or after the end ({float(Fraction(total) / rate):.3f} s): "
                         "nothing to export")
    return range(first, total)


def _count(show: Show, rate: Fraction) -> int | None:
    from installation.show import frame_count

    return frame_count(show.length, rate, show.loop)


def provenance_comment(show_name: str, models: Iterable[PooledModel]) -> str:
    """The container's comment: compact JSON naming each drawn snapshot (person, file name, full sha256, FID,
    consent note, approved), so the film says where it came from even without its sidecar."""
    snapshots = [{"person": m.person, "snapshot": m.snapshot.name, "sha256": m.sha256, "fid": m.entry.get("fid"),
                  "consent": m.entry.get("consent"), "approved": m.approved} for m in models]
    record = {"likeness": "show-export", "show": show_name, "snapshots": snapshots}
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode()) > MAX_COMMENT_BYTES:
        for snapshot in snapshots:
            snapshot["consent"] = "in the sidecar (too long for the container)"
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return text


def export_show(options: ExportOptions, say: Callable[[str], object] = print) -> Path:
    """Check the show, render every frame of the span into options.out, then write its sidecar; returns the film."""
    from installation.model_pool import ModelPool
    from installation.outputs import OffscreenOutput
    from installation.performance_log import read_performance
    from installation.renderer import Renderer
    from installation.show_check import check_show
    from installation.show_frame import ShowFrames, render
    from installation.show_log import setup_logging

    setup_logging()
    show = check_show(options.show, registry=options.registry)
    width, height = options.size or (show.width, show.height)
    rate = Fraction(options.rate or show.rate)
    check_film_output(options.out, codec=options.codec, width=width, height=height, force=options.force)
    check_output_free(sidecar_path(options.out), options.force)
    events = read_performance(options.replay) if options.replay else []
    frames = ShowFrames(show, (width, height))
    replay = control.Replay(events, frames.limits)
    span = frame_range(show, rate, options.start, options.end, events[-1].t if events else None)
    pool = ModelPool.from_registry(show.registry, device=options.device, allow_unapproved=options.allow_unapproved,
                                   people=list(show.people))
    metadata = FilmMetadata(title=show.title, people=list(pool.people),
                            comment=provenance_comment(show.path.name, pool.models.values()))
    output = OffscreenOutput(width, height)
    try:
        renderer = Renderer(pool, output)
        with FilmWriter(options.out, width=width, height=height, rate=rate, codec=options.codec, crf=options.crf,
                        metadata=metadata, force=options.force, total_frames=len(span),
                        progress=options.progress) as film:
            for k in span:
                t = float(Fraction(k) / rate)
                render(frames, renderer, replay.state_at(t), t)
                film.write(output.read_rgb())
        settings = film.settings()
    finally:
        output.release()
    write_sidecar(options.out, {
        "kind": "show-export",
        "title": show.title,
        "people": list(pool.people),
        "show": {"path": str(show.path), "text": show.source_text, "includes": dict(show.included)},
        "registry": str(show.registry),
        "snapshots": [{"person": m.person, "path": str(m.snapshot), "sha256": m.sha256, "approved": m.approved,
                       "fid": m.entry.get("fid"), "threshold": m.entry.get("threshold"),
                       "consent": m.entry.get("consent")} for m in pool.models.values()],
        "not_drawn": pool.refused,
        "replay": str(options.replay) if options.replay else None,
        "from_frame": span.start, "to_frame": span.stop,
        "render": settings,
        "frames": len(span),
    }, force=options.force)
    say(f"wrote {options.out}: {len(span)} frames, {width}x{height} at {rate} frames/s ({options.codec}), "
        f"and {sidecar_path(options.out).name}")
    return options.out
