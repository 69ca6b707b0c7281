"""The dataset zip: NVIDIA's layout, our provenance block, image folders as input, blur report and dropping."""

import datetime
import hashlib
import io
import json
import zipfile
from fractions import Fraction

import numpy as np
import PIL.Image
import pytest
import scipy.ndimage

import training
from footage import barcode_frame, cfr_video, prepare_options, read_barcode, zip_images
from training.dataset import ImageDataset
from training.footage.prepare import prepare


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return cfr_video(tmp_path_factory.mktemp("clip") / "clip.mp4", 30, Fraction(30))


def nvidia_style_read(path):
    """What NVIDIA's training/dataset.py ImageFolderDataset does with a zip: sorted image names, PIL, labels."""
    with zipfile.ZipFile(path) as zf:
        names = sorted(n for n in zf.namelist() if n.lower().endswith((".png", ".jpg")))
        images = [np.array(PIL.Image.open(io.BytesIO(zf.read(n)))) for n in names]
        labels = json.loads(zf.read("dataset.json"))["labels"]
    return names, images, labels


def test_zip_layout_matches_nvidia_dataset_tool(clip, tmp_path):
    out = tmp_path / "d.zip"
    prepare(prepare_options([clip], out, fps=Fraction(30)))
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == [f"00000/img{i:08d}.png" for i in range(30)] + ["dataset.json"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        meta = json.loads(zf.read("dataset.json"))
    assert meta["labels"] is None and set(meta) == {"labels", "likeness"}
    names, images, labels = nvidia_style_read(out)
    assert labels is None and len(images) == 30
    assert all(im.shape == (32, 32, 3) and im.dtype == np.uint8 for im in images)
    assert [read_barcode(im) for im in images] == list(range(30))


def test_frame_names_roll_over_every_thousand():
    from training.footage.dataset_writer import frame_name

    assert frame_name(999) == "00000/img00000999.png" and frame_name(1000) == "00001/img00001000.png"
    assert frame_name(123456) == "00123/img00123456.png"


def test_provenance_block(clip, tmp_path):
    out = tmp_path / "d.zip"
    prepare(prepare_options([clip], out, fps=Fraction(10), consent="signed release, 2026-11-02", png_level=3))
    ds = ImageDataset(out)
    ds.require_trainable()
    assert len(ds) == 10 and ds.resolution == 32
    block = ds.provenance
    assert block["person"] == "Test Sitter" and block["consent"] == "signed release, 2026-11-02"
    (src,) = block["sources"]
    assert src == {
        "path": str(clip), "name": "clip.mp4", "sha256": hashlib.sha256(clip.read_bytes()).hexdigest(),
        "bytes": clip.stat().st_size, "kind": "video", "offset": 0.0, "duration": 1.0, "frame_rate": "30/1",
        "width": 160, "height": 90, "rotation": 0, "codec": "h264",
    }
    assert block["fps"] == "10/1" and block["fit"] == "crop" and block["crop_center"] == [0.5, 0.5]
    assert block["size"] == 32 and block["frame_count"] == 10 and block["png_level"] == 3
    assert block["start"] is None and block["end"] is None
    assert block["tool"] == {"name": "likeness", "version": training.__version__}
    created = datetime.datetime.fromisoformat(block["created"])
    assert created.utcoffset() == datetime.timedelta(0)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()) < 600
    assert block["frames"] == [[0, round(k / 10, 3)] for k in range(10)]
    assert block["skipped_frames"] == [] and block["dropped_frames"] == [] and block["repeated_frames"] == 0


def test_png_level_changes_size_not_pixels(clip, tmp_path):
    prepare(prepare_options([clip], tmp_path / "l0.zip", fps=Fraction(10), png_level=0))
    prepare(prepare_options([clip], tmp_path / "l9.zip", fps=Fraction(10), png_level=9))
    a, b = zip_images(tmp_path / "l0.zip"), zip_images(tmp_path / "l9.zip")
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert (tmp_path / "l0.zip").stat().st_size > 1.5 * (tmp_path / "l9.zip").stat().st_size


def write_stills(folder, names, size=(160, 90)):
    folder.mkdir()
    for i, name in enumerate(names):
        PIL.Image.fromarray(barcode_frame(i, *size)).save(folder / name)


def test_image_folder_in_natural_order(tmp_path):
    names = ["img1.png", "img2.png", "img10.png", "sub/img11.png"]
    (tmp_path / "stills").mkdir()
    (tmp_path / "stills" / "sub").mkdir()
    for i, name in enumerate(names):
        PIL.Image.fromarray(barcode_frame(i)).save(tmp_path / "stills" / name)
    (tmp_path / "stills" / ".hidden.png").write_bytes(b"not looked at")
    (tmp_path / "stills" / "notes.txt").write_text("ignored")
    result = prepare(prepare_options([tmp_path / "stills"], tmp_path / "d.zip"))
    assert [read_barcode(im) for im in zip_images(tmp_path / "d.zip")] == [0, 1, 2, 3]
    block = result.provenance
    assert block["frames"] == [[0, n] for n in names] and block["fps"] is None
    (src,) = block["sources"]
    assert src["kind"] == "images" and src["image_count"] == 4 and (src["width"], src["height"]) == (160, 90)


def test_exif_orientation_is_honoured(tmp_path):
    """A JPEG stored 160x90 with EXIF orientation 6 is shown turned clockwise: 90x160, portrait."""
    folder = tmp_path / "stills"
    folder.mkdir()
    picture = np.full((90, 160, 3), 100, np.uint8)
    picture[:45, :80] = 255  # top-left quarter, stored
    exif = PIL.Image.Exif()
    exif[0x0112] = 6
    PIL.Image.fromarray(picture).save(folder / "a.jpg", exif=exif, quality=95)
    prepare(prepare_options([folder], tmp_path / "d.zip", size=64, fit="letterbox"))
    (image,) = zip_images(tmp_path / "d.zip")
    assert (image[:, :14] == 0).all() and (image[:, 50:] == 0).all()  # portrait: bars left and right
    content = image[:, 14:50].mean(axis=2)
    assert content[5:27, 23:31].min() > 200 and content[37:59, 5:13].max() < 140  # top-left -> top-right


def sharp_and_soft(folder, pattern):
    """Frames that are either a fine checkerboard (sharp) or a smooth ramp (blurry)."""
    folder.mkdir()
    y, x = np.mgrid[0:64, 0:64]
    for i, sharp in enumerate(pattern):
        grey = ((x // 2 + y // 2) % 2 * 200 + 20) if sharp else (x * 3 + y)
        PIL.Image.fromarray(np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2)).save(folder / f"f{i}.png")


def reference_blur(image):
    grey = np.asarray(PIL.Image.fromarray(image).convert("L"), dtype=np.float64)
    return scipy.ndimage.laplace(grey)[1:-1, 1:-1].var()


def test_report_blur_lists_blurriest_without_removing(tmp_path):
    from training.footage.prepare_report import report_lines

    sharp_and_soft(tmp_path / "s", [1, 0, 1, 1, 0, 1])
    opts = prepare_options([tmp_path / "s"], tmp_path / "d.zip", report_blur=2)
    result = prepare(opts)
    images = zip_images(tmp_path / "d.zip")
    assert len(images) == 6
    values = [reference_blur(im) for im in images]
    assert [n.index for n in result.blurriest] == sorted(range(6), key=values.__getitem__)[:2] == [1, 4]
    assert [n.value for n in result.blurriest] == pytest.approx([values[1], values[4]], rel=1e-5)
    text = "\n".join(report_lines(result, opts))
    assert "the 2 blurriest frames" in text and "f1.png" in text and "f4.png" in text


def test_drop_blur_removes_and_records(tmp_path):
    from training.footage.prepare_report import report_lines

    sharp_and_soft(tmp_path / "s", [1, 0, 1, 0, 0, 1])
    opts = prepare_options([tmp_path / "s"], tmp_path / "d.zip", drop_blur=100.0)
    result = prepare(opts)
    kept = zip_images(tmp_path / "d.zip")
    assert len(kept) == 3 and all(reference_blur(im) >= 100 for im in kept)
    block = result.provenance
    assert [d[1] for d in block["dropped_frames"]] == ["f1.png", "f3.png", "f4.png"]
    assert block["frames"] == [[0, "f0.png"], [0, "f2.png"], [0, "f5.png"]] and block["drop_blur"] == 100.0
    assert "dropped 3 frames blurrier than --drop-blur 100" in "\n".join(report_lines(result, opts))


@pytest.mark.parametrize("shape", [(1, 1, 3), (5, 7, 3), (33, 17), (64, 64, 3)])
@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_png_encoder_round_trips_through_pil(shape, level):
    from training.footage.dataset_writer import encode_png

    rng = np.random.default_rng(level)
    smooth = np.cumsum(rng.integers(0, 9, shape), axis=0) % 256  # rows differ by wrapping amounts
    array = smooth.astype(np.uint8)
    data = encode_png(array, level)
    with PIL.Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.format == "PNG" and image.mode == ("L" if len(shape) == 2 else "RGB")
        assert np.array_equal(np.asarray(image), array)
    if level == 0:
        assert len(data) > array.size  # stored, as NVIDIA's tool writes them
