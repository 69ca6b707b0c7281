"""`likeness import FILE -o model.pt`: an NVIDIA or rosinality StyleGAN2 model as a likeness checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from training import cli_common as cc

DESCRIPTION = """\
Convert a public StyleGAN2 model into a likeness checkpoint (.pt), to fine-tune a sitter from it
(`likeness train --init model.pt`) or to render it.

Reads NVIDIA pickles (network-snapshot-*.pkl of stylegan2-ada-pytorch, and the StyleGAN2 networks of stylegan3)
and rosinality/stylegan2-pytorch checkpoints (.pt with g, d, g_ema). The format is recognised from the content,
not the name. Nothing in the file is run: NVIDIA pickles carry Python source that NVIDIA's own loader executes;
likeness reads them with an unpickler that builds only tensors and plain data and refuses any other object, naming
it. StyleGAN3 (alias-free) generators, TensorFlow-era pickles and StyleGAN2 variants our networks cannot represent
are refused with a one-line reason.

The checkpoint holds G, G_ema and (when the file has one) D with their configuration, no optimiser state and no
training progress, and records the source file's path, sha256 and format under `imported_from`.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = cc.add_command(subparsers, "import", run, help="convert an NVIDIA .pkl or rosinality .pt StyleGAN2 model to "
                       "a likeness checkpoint", description=DESCRIPTION)
    p.add_argument("file", metavar="FILE", help="NVIDIA network pickle (.pkl) or rosinality checkpoint (.pt)")
    cc.add_output_flag(p, required=True, metavar="MODEL.pt", old_names=(), help="the likeness checkpoint to write")
    cc.add_force_flag(p, help="replace --out if it exists")


def run(args: argparse.Namespace) -> int:
    from training.atomic import check_output_free
    from training.checkpoint import save_checkpoint
    from training.errors import UsageError
    from training.importers.importing import describe, is_likeness_checkpoint, load_any_checkpoint

    source, out = Path(args.file), Path(args.out)
    if not source.is_file():
        raise UsageError(f"{source} does not exist")
    if out.resolve() == source.resolve():
        raise UsageError("--out must not be the file being imported")
    if is_likeness_checkpoint(source):
        raise UsageError(f"{source} is already a likeness checkpoint; use it as it is")
    check_output_free(out, args.force)
    payload = load_any_checkpoint(source)
    origin = payload["imported_from"]
    body = {k: v for k, v in payload.items() if k not in ("format", "format_version", "saved_at")}
    save_checkpoint(out, body, force=args.force)
    print(f"imported {_origin_text(origin)} from {source}")
    print(f"  {describe(payload)}")
    for note in origin["source"].get("notes", []):
        print(f"  note: {note}")
    print(f"  source sha256 {origin['sha256']}")
    print(f"wrote {out}")
    return 0


def _origin_text(origin: dict) -> str:
    if origin["format"] == "rosinality":
        return "rosinality/stylegan2-pytorch checkpoint"
    g = origin["source"]["networks"].get("G_ema") or origin["source"]["networks"].get("G")
    if not g["module"]:
        return "NVIDIA pickle (networks module not recognised; settings read from the objects)"
    return f"NVIDIA pickle ({g['module']} of {g['repository']})"
