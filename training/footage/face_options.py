"""How `--fit face` frames the sitter: the options alone, so that building the command line imports no detector."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaceOptions:
    """How `--fit face` frames the sitter."""

    scale: float = 2.5  # crop side in face heights
    align: str | None = None  # "eyes": turn the crop so the eyes are level
    smooth: float = 0.25  # sigma of the temporal filter, seconds of footage (0: none)
    max_face_fraction: float | None = None  # report/drop frames whose face square covers more of the picture
    drop_faceless: bool = False

    def provenance(self) -> dict:
        from training.footage.face_detector import detector_description

        return {"mode": "face", "detector": detector_description(), "face_scale": self.scale,
                "align": self.align, "smooth_seconds": self.smooth, "max_face_fraction": self.max_face_fraction,
                "drop_faceless": self.drop_faceless}
