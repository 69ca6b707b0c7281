"""Crop, letterbox, rotation and pixel-aspect geometry.

The unit tests feed the planner a picture whose every pixel holds its own displayed x (or y) coordinate as a
float: Lanczos reproduces a linear ramp exactly away from the borders, so each output pixel must hold the
displayed coordinate its centre maps to, which the test computes from first principles. The end-to-end tests
run real videos and PNG folders through `prepare`.
"""

from fractions import Fraction

import numpy as np
import PIL.Image
import pytest

from footage import barcode_frame, cfr_video, prepare_options, read_barcode, write_video, zip_images
from training.footage.framing import parse_center, plan_frame
from training.footage.prepare import prepare


def coded_ramps(width_d, height_d, rotation):
    """Coded pictures (mode F) that show, once turned `rotation` degrees counter-clockwise, x and y ramps."""
    yd, xd = np.mgrid[0:height_d, 0:width_d].astype(np.float32)
    k = rotation // 90
    # np.rot90(a, k) turns an image counter-clockwise; undo the display turn to get the coded picture
    return [PIL.Image.fromarray(np.ascontiguousarray(np.rot90(ramp, -k)), mode="F") for ramp in (xd, yd)]


def sampled(plan, image):
    return np.asarray(plan.apply(image), dtype=np.float64)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
@pytest.mark.parametrize("center", [(0.5, 0.5), (0.0, 0.2), (0.9, 1.0)])
def test_crop_maps_output_pixels_to_the_right_display_pixels(rotation, center):
    wd, hd, n = 120, 72, 32  # displayed size (landscape after the turn)
    coded_x, coded_y = coded_ramps(wd, hd, rotation)
    cw, ch = coded_x.size
    plan = plan_frame(cw, ch, fit="crop", size=n, center=center, rotation=rotation)
    side = min(wd, hd)
    left = min(max(center[0] * wd - side / 2, 0), wd - side)
    top = min(max(center[1] * hd - side / 2, 0), hd - side)
    centres = (np.arange(n) + 0.5) * side / n - 0.5
    out_x, out_y = sampled(plan, coded_x), sampled(plan, coded_y)
    inner = slice(3, n - 3)  # Lanczos-3 at a 2.25x reduction reaches ~3 output pixels into the border
    assert np.allclose(out_x[inner, inner], (left + centres)[None, inner], atol=0.02)
    assert np.allclose(out_y[inner, inner], (top + centres)[inner, None], atol=0.02)


@pytest.mark.parametrize("rotation", [0, 90, 270])
def test_letterbox_is_centred_with_exact_black_bars(rotation):
    wd, hd, n = 160, 90, 64
    coded_x, coded_y = coded_ramps(wd, hd, rotation)
    plan = plan_frame(*coded_x.size, fit="letterbox", size=n, rotation=rotation)
    scale = n / wd
    cw, ch = round(wd * scale), round(hd * scale)
    left, top = (n - cw) // 2, (n - ch) // 2
    assert plan.content == (left, top, left + cw, top + ch) == (0, 14, 64, 50)
    coded_x_plus = PIL.Image.fromarray(np.asarray(coded_x) + 1.0, mode="F")  # no zero inside the picture
    out = sampled(plan, coded_x_plus)
    assert (out[:top] == 0).all() and (out[top + ch:] == 0).all()
    assert (out[top:top + ch] > 0.5).all()
    out_x = sampled(plan, coded_x)[top + 3:top + ch - 3, 3:n - 3]
    expected = (np.arange(3, n - 3) + 0.5) * wd / cw - 0.5
    assert np.allclose(out_x, expected[None, :], atol=0.02)


def test_portrait_letterbox_bars_left_and_right():
    plan = plan_frame(90, 160, fit="letterbox", size=64)
    assert plan.content == (14, 0, 50, 64)


def test_sample_aspect_ratio_is_honoured():
    """An anamorphic 80x90 picture with 2:1 pixels shows as 160x90: same geometry as square-pixel 160x90."""
    assert plan_frame(80, 90, fit="letterbox", size=64, sample_aspect=Fraction(2)).content == (0, 14, 64, 50)
    plan = plan_frame(80, 90, fit="crop", size=64, sample_aspect=Fraction(2))
    assert plan.box == pytest.approx((17.5, 0.0, 62.5, 90.0))


def test_parse_center():
    assert parse_center("0.5,0.4") == (0.5, 0.4) and parse_center("0, 1") == (0.0, 1.0)
    for bad in ("0.5", "1.5,0.5", "a,b", "0.1,0.2,0.3"):
        with pytest.raises(ValueError):
            parse_center(bad)


# -- end to end --------------------------------------------------------------------------------------------------

def test_video_letterbox_bars_exactly_black_and_centred(tmp_path):
    path = cfr_video(tmp_path / "c.mp4", 6, Fraction(30))
    prepare(prepare_options([path], tmp_path / "d.zip", fps=Fraction(10), size=64, fit="letterbox"))
    images = zip_images(tmp_path / "d.zip")
    assert len(images) == 2
    for i, image in enumerate(images):
        assert (image[:14] == 0).all() and (image[50:] == 0).all()  # bars: 64 * 90/160 = 36 rows, centred
        assert (image[14:50, :6] > 60).all() and (image[14:50, -6:] > 60).all()  # grey sides reach the edges
        assert read_barcode(image, (14, 14, 50, 50)) == 3 * i


def test_video_crop_keeps_the_central_square(tmp_path):
    path = cfr_video(tmp_path / "c.mp4", 3, Fraction(30), first_index=0xA5C3)
    prepare(prepare_options([path], tmp_path / "d.zip", fps=Fraction(30), size=16))
    assert [read_barcode(im) for im in zip_images(tmp_path / "d.zip")] == [0xA5C3, 0xA5C4, 0xA5C5]


def band_picture(width=320, height=180):
    """Four vertical colour bands of 80 px: red, green, blue, white."""
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]], np.uint8)
    bands = np.repeat(np.arange(4), width // 4)
    return np.broadcast_to(colours[bands][None], (height, width, 3)).copy()


@pytest.mark.parametrize("center,expected", [
    ("0,0.5", [(0, 80, "red"), (80, 160, "green"), (160, 180, "blue")]),  # x in [0, 180)
    ("0.5,0.5", [(70, 80, "red"), (80, 160, "green"), (160, 240, "blue"), (240, 250, "white")]),
    ("1,0.5", [(140, 160, "green"), (160, 240, "blue"), (240, 320, "white")]),  # x in [140, 320)
])
def test_crop_center_on_an_image_folder(tmp_path, center, expected):
    from training.footage.framing import parse_center

    folder = tmp_path / "stills"
    folder.mkdir()
    PIL.Image.fromarray(band_picture()).save(folder / "a.png")
    prepare(prepare_options([folder], tmp_path / "d.zip", size=64, crop_center=parse_center(center)))
    (image,) = zip_images(tmp_path / "d.zip")
    rgb = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "white": (255, 255, 255)}
    left = expected[0][0]
    for x0, x1, colour in expected:
        if x1 - x0 < 16:
            continue  # too narrow to sample clear of Lanczos ringing
        middle = round(((x0 + x1) / 2 - left) * 64 / 180)
        assert tuple(image[32, middle]) == rgb[colour], (center, colour)


@pytest.mark.parametrize("rotation,corner", [(90, "bottom-left"), (-90, "top-right"), (180, "bottom-right")])
def test_rotation_flag_is_honoured(tmp_path, rotation, corner):
    """The coded picture has a white block in its top-left quarter; the display matrix turns it
    counter-clockwise by `rotation` degrees, which moves the block to `corner`."""

    def picture(i):
        a = np.full((90, 160, 3), 100, np.uint8)
        a[:45, :80] = 255
        return a

    path = write_video(tmp_path / "r.mp4", [Fraction(0), Fraction(1, 30)], time_base=Fraction(1, 30),
                       rate=Fraction(30), rotation=rotation, picture=picture)
    result = prepare(prepare_options([path], tmp_path / "d.zip", fps=Fraction(30), size=64, fit="letterbox"))
    image = zip_images(tmp_path / "d.zip")[0].mean(axis=2)
    turned = rotation % 180 != 0
    content = image[:, 14:50] if turned else image[14:50, :]
    h, w = content.shape
    quarters = {
        "top-left": content[: h // 2, : w // 2], "top-right": content[: h // 2, w // 2:],
        "bottom-left": content[h // 2:, : w // 2], "bottom-right": content[h // 2:, w // 2:],
    }
    for name, quarter in quarters.items():
        inner = quarter[3:-3, 3:-3]
        assert (inner > 200).all() if name == corner else (inner < 140).all(), name
    if turned:
        assert (image[:, :14] == 0).all() and (image[:, 50:] == 0).all()
    assert result.provenance["sources"][0]["rotation"] == rotation % 360


def test_anamorphic_video(tmp_path):
    """A 2:1 pixel aspect video is letterboxed as it is shown (twice as wide), not as it is stored."""
    import av

    path = tmp_path / "sar.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 80, 90, "yuv420p"
        s.codec_context.sample_aspect_ratio = Fraction(2)
        frame = av.VideoFrame.from_ndarray(barcode_frame(0, 80, 90).clip(100, 255), format="rgb24")
        frame.pts = 0
        for p in list(s.encode(frame)) + list(s.encode()):
            c.mux(p)
    result = prepare(prepare_options([path], tmp_path / "d.zip", fps=Fraction(1), size=64, fit="letterbox"))
    (image,) = zip_images(tmp_path / "d.zip")
    assert (image[:14] == 0).all() and (image[50:] == 0).all() and (image[14:50].mean(axis=2) > 60).all()
    assert result.provenance["sources"][0]["sample_aspect"] == "2/1"


def test_frame_to_image_matches_a_plain_conversion(tmp_path):
    """The zero-copy RGBX wrapping honours the row padding of odd widths and keeps the frame alive."""
    import av

    from training.footage.video_source import frame_to_image

    path = cfr_video(tmp_path / "odd.mp4", 3, Fraction(30), width=166, height=94)
    with av.open(str(path)) as c:
        frames = list(c.decode(video=0))
    images = [frame_to_image(f) for f in frames]
    expected = [f.to_ndarray(format="rgb24") for f in frames]
    del frames
    for image, reference in zip(images, expected):
        assert image.size == (166, 94)
        assert np.array_equal(np.asarray(image.convert("RGB")), reference)
