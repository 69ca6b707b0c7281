"""The demo's three invented sitters and how much each is trained: the cast of `likeness demo`.

Each is a seed of training/footage/demo_clip.py (its own face shape, skin, hair, clothes and room). Ada and Bruno go
the way a real sitter goes (pre-train on the 1 fps set from the bundled model, fine-tune on the 10 fps set); Chiara,
filmed in 4:3 and letterboxed, is trained from scratch for a moment only, so that the gate has someone to exclude, as
a real project's under-trained sitter is.
"""

from __future__ import annotations

from dataclasses import dataclass

# The bundled model's architecture, for the one sitter trained from scratch (--init keeps the parent's).
SMALL_NETWORKS = ("--cbase", "4096", "--cmax", "128", "--map", "2", "--w-dim", "128")


@dataclass(frozen=True)
class Sitter:
    name: str
    seed: int  # demo_clip's seed: who they are
    fit: str  # likeness prepare --fit
    width: int  # footage size
    height: int
    pretrain_kimg: float  # on the 1 fps set (CPU budget; a GPU multiplies it)
    finetune_kimg: float  # on the 10 fps set; 0 = none
    from_bundled_model: bool

    @property
    def slug(self) -> str:
        return self.name.lower()


CAST = (
    Sitter("Ada", seed=2, fit="crop", width=640, height=360, pretrain_kimg=0.128, finetune_kimg=0.512,
           from_bundled_model=True),
    Sitter("Bruno", seed=14, fit="crop", width=640, height=360, pretrain_kimg=0.128, finetune_kimg=0.512,
           from_bundled_model=True),
    Sitter("Chiara", seed=17, fit="letterbox", width=480, height=360, pretrain_kimg=0.032, finetune_kimg=0,
           from_bundled_model=False),
)


def consent_note(sitter: Sitter) -> str:
    return f"Invented by likeness demo (demo_clip seed {sitter.seed}): no real person, no consent needed"
