"""Where encoded frames go: a video container (PyAV muxer) or a folder of PNG frames (PyAV's PNG encoder).

Both take RGB frames that are already PyAV frames in the codec's pixel format; film_writer.py converts and
counts. Both write only inside the temporary path they are given; the writer renames it when the film is whole.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import ColorPrimaries, ColorRange, ColorTrc, Colorspace, VideoReformatter

from installation.film_codecs import PNG_FRAME_NAME, CodecSpec


class Bt709Converter:
    """RGB (full range, as the renderer draws it) -> the codec's YUV in BT.709 limited range.

    Every argument is explicit: left to itself swscale converts RGB with the BT.601 matrix, which shifts skin
    tones on every BT.709 screen. The frame is tagged with all four colour properties so the encoder and the
    container carry them.
    """

    def __init__(self, pix_fmt: str):
        self.pix_fmt = pix_fmt
        self._reformatter = VideoReformatter()

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        out = self._reformatter.reformat(frame, format=self.pix_fmt, src_colorspace=Colorspace.ITU709,
                                         dst_colorspace=Colorspace.ITU709, src_color_range=ColorRange.JPEG,
                                         dst_color_range=ColorRange.MPEG, dst_color_trc=ColorTrc.BT709,
                                         dst_color_primaries=ColorPrimaries.BT709)
        out.colorspace = Colorspace.ITU709
        out.color_range = ColorRange.MPEG
        return out


class VideoSink:
    """One video stream in an mp4/mov/mkv container, tagged BT.709 limited range, pts = frame index."""

    def __init__(self, tmp: Path, spec: CodecSpec, fmt: str, width: int, height: int, rate: Fraction,
                 crf: int | None, preset: str | None, metadata: dict[str, str]):
        options = dict(spec.options)
        if spec.crf and crf is not None:
            options["crf"] = str(crf)
        if spec.crf and preset:
            options["preset"] = preset
        # Web players start mp4 before it has downloaded only when the index (moov) is at the front.
        container_options = {"movflags": "+faststart"} if fmt == "mp4" else {}
        self.container = av.open(str(tmp), "w", format=fmt, options=container_options)
        try:
            self.container.metadata.update(metadata)
            stream = self.container.add_stream(spec.encoder, rate=rate, options=options)
            stream.width, stream.height, stream.pix_fmt = width, height, spec.pix_fmt
            if spec.codec_tag and fmt in ("mp4", "mov"):
                stream.codec_tag = spec.codec_tag  # Apple players only play HEVC tagged hvc1
            cc = stream.codec_context
            cc.time_base = 1 / rate
            cc.color_primaries, cc.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
            cc.colorspace, cc.color_range = Colorspace.ITU709, ColorRange.MPEG
            self.stream = stream
            self.convert = Bt709Converter(spec.pix_fmt)
        except BaseException:
            self.container.close()
            raise

    def write(self, frame: av.VideoFrame, index: int) -> None:
        yuv = self.convert(frame)
        yuv.pts = index
        self.container.mux(self.stream.encode(yuv))

    def finish(self) -> None:
        """Flush the encoder and write the index; the file is only playable after this."""
        self.container.mux(self.stream.encode(None))
        self.container.close()

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:
            pass  # the temporary file is removed anyway


class PngSequenceSink:
    """A folder `frame-000000.png`, `frame-000001.png`, ... of lossless 8-bit RGB frames."""

    def __init__(self, tmp: Path, width: int, height: int):
        tmp.mkdir()
        self.folder = tmp
        self.encoder = av.CodecContext.create("png", "w")
        self.encoder.width, self.encoder.height, self.encoder.pix_fmt = width, height, "rgb24"
        self.encoder.time_base = Fraction(1, 1)

    def write(self, frame: av.VideoFrame, index: int) -> None:
        frame.pts = index
        data = b"".join(bytes(p) for p in self.encoder.encode(frame))
        with open(self.folder / PNG_FRAME_NAME.format(index), "wb") as f:
            f.write(data)

    def finish(self) -> None:
        for packet in self.encoder.encode(None):
            raise RuntimeError(f"the PNG encoder held back a frame ({packet.size} bytes)")

    def abort(self) -> None:
        pass
