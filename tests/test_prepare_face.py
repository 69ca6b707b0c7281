"""`likeness prepare --fit face` on a real photograph of a person moved, scaled and turned with known motion."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from fractions import Fraction

import numpy as np
import PIL.Image
import pytest

from tests.face_footage import Pose, astronaut, drifting_poses, face_video
from tests.footage import prepare_options, zip_images
from training.errors import DataError, UsageError
from training.footage.face_detector import FaceDetector
from training.footage.face_framing import BOXES_NAME, NO_FACE, FaceOptions
from training.footage.face_prepare import preview_path, write_preview
from training.footage.prepare import prepare
from training.footage.prepare_report import report_lines

COUNT = 24


@pytest.fixture(scope="module")
def photo_face():
    """The face as the detector finds it in the untouched photograph, enlarged 2x for precise landmarks."""
    photo = astronaut()
    face = FaceDetector().detect(photo.resize((1024, 1024), PIL.Image.Resampling.LANCZOS))[0]
    half = lambda p: ((p[0] + 0.5) / 2 - 0.5, (p[1] + 0.5) / 2 - 0.5)  # noqa: E731 - 2x pixels back to 1x
    return {"center": half(face.center), "height": face.height / 2, "angle": face.eye_angle, "size": photo.size}


@pytest.fixture(scope="module")
def drifting(tmp_path_factory):
    folder = tmp_path_factory.mktemp("face")
    poses = drifting_poses(COUNT)
    return face_video(folder / "drift.mp4", poses), poses


def _boxes(zip_path) -> np.ndarray:
    with zipfile.ZipFile(zip_path) as z:
        return np.array(json.loads(z.read(BOXES_NAME))["frames"], np.float64)


def _truth(poses: list[Pose], face: dict) -> np.ndarray:
    """Where the photograph's face centre is in each frame, the crop side it asks for, and the eye angle."""
    rows = []
    for pose in poses:
        x, y = pose.place(face["center"], face["size"])
        rows.append([x, y, 2.5 * face["height"] * pose.scale, face["angle"] + pose.angle])
    return np.array(rows)


@pytest.fixture(scope="module")
def aligned(drifting, tmp_path_factory):
    video, poses = drifting
    out = tmp_path_factory.mktemp("aligned") / "aligned.zip"
    options = prepare_options([video], out, fps=Fraction(12), size=256, fit="face",
                              face=FaceOptions(align="eyes"))
    return prepare(options), options, out


def test_crop_follows_the_face(aligned, drifting, photo_face):
    result, _, out = aligned
    boxes, truth = _boxes(out), _truth(drifting[1], photo_face)
    assert result.frames == COUNT and len(boxes) == COUNT
    assert np.abs(boxes[:, :2] - truth[:, :2]).max() < 3.0  # pixels of the 640x480 source
    assert np.abs(boxes[:, 2] / truth[:, 2] - 1).max() < 0.05  # --face-scale 2.5 face heights
    assert np.abs(boxes[:, 3] - truth[:, 3]).max() < 1.5  # degrees


def test_align_eyes_levels_the_eyes_in_the_output(aligned):
    """Measured on the written frames themselves: the eyes of the output pictures lie on a horizontal line."""
    _, _, out = aligned
    detector = FaceDetector()
    angles = [detector.detect(PIL.Image.fromarray(frame))[0].eye_angle for frame in zip_images(out)[::4]]
    assert max(abs(a) for a in angles) < 2.0
    source_angles = [p.angle for p in drifting_poses(COUNT)[::4]]
    assert max(abs(a) for a in source_angles) > 6  # the footage itself is tilted


def test_crop_path_is_smooth(aligned, drifting, photo_face, tmp_path):
    """Second differences (frame-to-frame acceleration) of the crop track the true motion's, without the
    detector's jitter, which following every detection as it is (--face-smooth 0) shows."""
    truth = _truth(drifting[1], photo_face)

    def jerk(boxes: np.ndarray) -> np.ndarray:
        return np.abs(np.diff(boxes[:, :3], 2, axis=0) - np.diff(truth[:, :3], 2, axis=0))

    smooth = jerk(_boxes(aligned[2]))
    raw_zip = tmp_path / "raw.zip"
    prepare(prepare_options([drifting[0]], raw_zip, fps=Fraction(12), fit="face", face=FaceOptions(align="eyes",
                                                                                                   smooth=0)))
    raw = jerk(_boxes(raw_zip))
    assert smooth.max() < 0.5  # pixels per frame per frame
    assert np.sqrt((smooth ** 2).mean()) < 0.5 * np.sqrt((raw ** 2).mean())


def test_upright_crops_without_align(drifting, tmp_path, photo_face):
    video, poses = drifting
    out = tmp_path / "upright.zip"
    prepare(prepare_options([video], out, fps=Fraction(4), size=32, fit="face"))
    boxes = _boxes(out)
    assert np.all(boxes[:, 3] == 0)
    with zipfile.ZipFile(out) as z:
        meta = json.loads(z.read("dataset.json"))["likeness"]
    framing = meta["framing"]
    assert meta["fit"] == "face" and framing["mode"] == "face" and framing["face_scale"] == 2.5
    assert framing["detector"]["dlib"] and framing["rules"] == {"no face": 0, "several faces": 0,
                                                               "face too large": 0}
    assert len(boxes) == meta["frame_count"] == 8


@pytest.fixture(scope="module")
def gap_clip(tmp_path_factory):
    """A face, then two empty frames, then the face again, at 4 fps."""
    pose = Pose((320, 420), 1.3, 0.0)
    poses = [pose, pose, None, None, pose, pose]
    return face_video(tmp_path_factory.mktemp("gap") / "gap.mp4", poses, rate=Fraction(4))


def test_faceless_frames_are_reported_and_keep_the_last_crop(gap_clip, tmp_path):
    out = tmp_path / "gap.zip"
    options = prepare_options([gap_clip], out, fps=Fraction(4), fit="face", face=FaceOptions(smooth=0))
    result = prepare(options)
    boxes = _boxes(out)
    assert result.frames == 6
    np.testing.assert_array_equal(boxes[2], boxes[1])
    np.testing.assert_array_equal(boxes[3], boxes[1])
    lines = report_lines(result, options)
    assert any("2 frames kept with the last good crop: 2 no face" in line for line in lines)
    assert any("no face: gap.mp4 00:00.500, gap.mp4 00:00.750" in line for line in lines)  # 2/4 s, 3/4 s
    assert result.provenance["framing"]["flagged_frames"] == [[0, 0.5, NO_FACE], [0, 0.75, NO_FACE]]


def test_drop_faceless_leaves_them_out(gap_clip, tmp_path):
    out = tmp_path / "dropped.zip"
    result = prepare(prepare_options([gap_clip], out, fps=Fraction(4), fit="face",
                                     face=FaceOptions(drop_faceless=True)))
    assert result.frames == 4 and len(_boxes(out)) == 4
    assert result.provenance["framing"]["rules"]["no face"] == 2


def test_max_face_fraction_flags_big_faces(gap_clip, tmp_path):
    out = tmp_path / "big.zip"
    # The face is ~113 px of a 640x480 picture: its square covers ~4% of it.
    result = prepare(prepare_options([gap_clip], out, fps=Fraction(4), fit="face",
                                     face=FaceOptions(max_face_fraction=0.02)))
    assert result.provenance["framing"]["rules"] == {"no face": 2, "several faces": 0, "face too large": 4}


def test_clip_without_any_face_falls_back_to_the_centred_square(tmp_path):
    video = face_video(tmp_path / "empty.mp4", [None] * 3, rate=Fraction(2))
    result = prepare(prepare_options([video], tmp_path / "empty.zip", fps=Fraction(2), fit="face"))
    assert result.provenance["framing"]["rules"]["no face"] == 3
    np.testing.assert_allclose(_boxes(tmp_path / "empty.zip"), [[320, 240, 480, 0]] * 3)


def test_dropping_every_frame_is_an_error_and_writes_nothing(tmp_path):
    video = face_video(tmp_path / "empty.mp4", [None] * 2, rate=Fraction(2))
    out = tmp_path / "none.zip"
    with pytest.raises(DataError, match="no frame has a single face"):
        prepare(prepare_options([video], out, fps=Fraction(2), fit="face", face=FaceOptions(drop_faceless=True)))
    assert list(tmp_path.iterdir()) == [video]


def test_preview_sheet(drifting, tmp_path):
    video, _ = drifting
    out = tmp_path / "sitter.zip"
    sheet, shown = write_preview(prepare_options([video], out, fps=Fraction(10), fit="face"), 4)
    assert sheet == preview_path(str(out)) == tmp_path / "sitter.preview.png" and shown == 4
    assert not out.exists()  # only the sheet
    image = np.asarray(PIL.Image.open(sheet).convert("RGB")).astype(int)
    assert image.shape == (2 * 336, 2 * 320, 3)
    red = (image[..., 0] > 200) & (image[..., 1] < 80) & (image[..., 2] < 80)
    for row in range(2):
        for col in range(2):
            assert red[row * 336:(row + 1) * 336, col * 320:(col + 1) * 320].sum() > 200  # a crop in every cell
    with pytest.raises(UsageError, match="already exists"):
        write_preview(prepare_options([video], out, fps=Fraction(10), fit="face"), 4)


def test_face_flags_need_fit_face(drifting, tmp_path):
    with pytest.raises(UsageError, match="apply to --fit face"):
        prepare(prepare_options([drifting[0]], tmp_path / "x.zip", fps=Fraction(1), face=FaceOptions(align="eyes")))
    with pytest.raises(UsageError, match="--face-scale must be above zero"):
        prepare(prepare_options([drifting[0]], tmp_path / "x.zip", fps=Fraction(1), fit="face",
                                face=FaceOptions(scale=0)))
    assert not (tmp_path / "x.zip").exists()


def test_missing_extra_gives_one_line(drifting, tmp_path):
    """Without dlib installed (hidden from the import system), the command says which extra to install."""
    code = ("import sys; sys.modules['dlib'] = None; from likeness.cli import main; "
            f"sys.exit(main(['prepare', {str(drifting[0])!r}, '-o', {str(tmp_path / 'x.zip')!r}, '--person', 'A', "
            "'--consent', 'test', '--fps', '1', '--size', '32', '--fit', 'face', '-q']))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "likeness prepare: error: --fit face needs the face detector, an optional extra: pip install "
        "'likeness[face]' (dlib-bin and face_recognition_models)"]
    assert not (tmp_path / "x.zip").exists()


def test_command_line(drifting, tmp_path):
    """The flags reach prepare: eye alignment, scale, and the summary's framing line; then the preview."""
    out = tmp_path / "cli.zip"
    base = [sys.executable, "-m", "likeness", "prepare", str(drifting[0]), "-o", str(out), "--person", "A",
            "--consent", "test footage", "--fps", "2", "--size", "32", "--fit", "face", "-q"]
    run = subprocess.run(base + ["--align", "eyes", "--face-scale", "3"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "face framing: a single face followed in every frame" in run.stdout
    with zipfile.ZipFile(out) as z:
        framing = json.loads(z.read("dataset.json"))["likeness"]["framing"]
    assert framing["align"] == "eyes" and framing["face_scale"] == 3.0 and np.abs(_boxes(out)[:, 3]).max() > 3
    run = subprocess.run(base + ["--preview", "2"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"wrote {tmp_path / 'cli.preview.png'}: 2 frames")
    run = subprocess.run(base + ["--fit", "crop", "--align", "eyes", "--force"], capture_output=True, text=True)
    assert run.returncode == 2 and "apply to --fit face" in run.stderr


def test_folder_of_stills(tmp_path, photo_face):
    """Stills are framed one by one (no smoothing across unrelated pictures)."""
    folder = tmp_path / "stills"
    folder.mkdir()
    poses = [Pose((320, 420), 1.3, 0.0), Pose((250, 400), 1.2, 5.0)]
    from tests.face_footage import render

    for i, pose in enumerate(poses):
        PIL.Image.fromarray(render(astronaut(), pose)).save(folder / f"img{i}.png")
    out = tmp_path / "stills.zip"
    prepare(prepare_options([folder], out, fit="face", face=FaceOptions(align="eyes")))
    np.testing.assert_allclose(_boxes(out), _truth(poses, photo_face), atol=2.5)
