"""The four ways a film leaves likeness, and the checks that refuse a bad request before any frame is rendered.

Each codec is pinned to one encoder, pixel format and set of containers, so a film made here plays the same
everywhere: H.264 High 4:2:0 for sharing, HEVC for smaller files, ProRes 422 HQ (10-bit 4:2:2) for editing and
gallery players, and a PNG sequence (lossless RGB) for compositing. docs/export.md has the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from training.errors import UsageError


@dataclass(frozen=True)
class CodecSpec:
    name: str  # what the user types: --codec NAME
    encoder: str  # the FFmpeg encoder PyAV opens
    pix_fmt: str
    containers: dict[str, str]  # file extension -> FFmpeg muxer
    options: dict[str, str] = field(default_factory=dict)  # fixed encoder options
    crf: bool = False  # takes --crf
    codec_tag: str | None = None  # fourcc in mp4/mov
    chroma_step: tuple[int, int] = (1, 1)  # width and height must be multiples of these (chroma subsampling)
    purpose: str = ""


VIDEO_CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}

CODECS: dict[str, CodecSpec] = {
    "h264": CodecSpec("h264", "libx264", "yuv420p", VIDEO_CONTAINERS,
                      {"profile": "high", "x264-params": "log-level=error"}, crf=True, chroma_step=(2, 2),
                      purpose="sharing: plays everywhere"),
    "hevc": CodecSpec("hevc", "libx265", "yuv420p", VIDEO_CONTAINERS,
                      {"profile": "main", "x265-params": "log-level=error"}, crf=True, codec_tag="hvc1",
                      chroma_step=(2, 2), purpose="sharing at about half the size of H.264"),
    "prores": CodecSpec("prores", "prores_ks", "yuv422p10le", {".mov": "mov"},
                        {"profile": "3", "vendor": "apl0"}, chroma_step=(2, 1),
                        purpose="editing and gallery players (ProRes 422 HQ, 10-bit 4:2:2)"),
    "png": CodecSpec("png", "png", "rgb24", {}, purpose="compositing: lossless RGB frames in a folder"),
}

PNG_FRAME_NAME = "frame-{:06d}.png"
# Names that say "a file", so a PNG sequence (a folder) is not silently written under them.
FILE_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".m4v", ".avi", ".webm", ".png", ".jpg", ".gif", ".json"})


def codec_spec(name: str) -> CodecSpec:
    try:
        return CODECS[name]
    except KeyError:
        raise UsageError(f"unknown codec {name!r}; use one of {', '.join(CODECS)}") from None


def check_encoder_available(spec: CodecSpec) -> None:
    """PyAV wheels differ in what they bundle (libx265 is the one most often missing)."""
    import av

    try:
        av.codec.Codec(spec.encoder, "w")
    except Exception:
        others = [n for n, s in CODECS.items() if s is not spec and _has_encoder(s.encoder)]
        raise UsageError(f"this PyAV build has no {spec.encoder} encoder for --codec {spec.name}; choose "
                         f"{' or '.join(others) or 'another codec'}, or install a PyAV build that includes it") \
            from None


def _has_encoder(encoder: str) -> bool:
    import av

    try:
        av.codec.Codec(encoder, "w")
        return True
    except Exception:
        return False


def container_format(spec: CodecSpec, path: Path) -> str | None:
    """The muxer for `path` (None for a PNG sequence); refuses an extension the codec does not go into."""
    suffix = path.suffix.lower()
    if spec.name == "png":
        if suffix in FILE_SUFFIXES:
            raise UsageError(f"{path}: --codec png writes a folder of frames; give a folder name without "
                             f"{suffix}, e.g. {path.with_suffix('')}")
        return None
    if suffix not in spec.containers:
        allowed = " or ".join(spec.containers)
        raise UsageError(f"{path}: {spec.name} goes into a {allowed} file; name the output e.g. "
                         f"{path.with_suffix(next(iter(spec.containers))).name}")
    return spec.containers[suffix]


def check_frame_size(spec: CodecSpec, width: int, height: int) -> None:
    if width < 2 or height < 2 or width > 16384 or height > 16384:
        raise UsageError(f"film size {width}x{height} is out of range; use 2 to 16384 pixels a side")
    step_w, step_h = spec.chroma_step
    if width % step_w or height % step_h:
        need = "width and height" if step_h > 1 else "width"
        raise UsageError(f"film size {width}x{height}: {spec.name} ({spec.pix_fmt}) needs an even {need}; use e.g. "
                         f"{width + width % step_w}x{height + height % step_h}")


def check_rate(rate: Fraction) -> Fraction:
    try:
        rate = Fraction(rate)
    except (TypeError, ValueError, ZeroDivisionError):
        raise UsageError(f"frame rate {rate!r} is not a number; use e.g. 30000/1001, 25 or 24") from None
    if not 0 < rate <= 1000:
        raise UsageError(f"frame rate {rate} is out of range; use a rate above 0 and at most 1000 frames/s")
    if rate.denominator > 1001 * 1000:
        raise UsageError(f"frame rate {rate} is not an exact rate a container can hold; use e.g. 30000/1001")
    return rate


def check_crf(spec: CodecSpec, crf: int | None) -> None:
    if crf is None:
        return
    if not spec.crf:
        raise UsageError(f"--crf applies to h264 and hevc; {spec.name} has a fixed quality")
    if not 1 <= crf <= 51:  # x264's 0 is lossless, which High profile cannot carry
        raise UsageError(f"--crf {crf} is out of range; use 1 (best) to 51 (smallest); 18 looks transparent")


PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def check_preset(spec: CodecSpec, preset: str | None) -> None:
    """x264 and x265 share these names: slower presets give smaller files at the same --crf."""
    if preset is None:
        return
    if not spec.crf:
        raise UsageError(f"a preset applies to h264 and hevc; {spec.name} has none")
    if preset not in PRESETS:
        raise UsageError(f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
