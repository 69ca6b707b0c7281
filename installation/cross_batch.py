"""One modulated convolution over a batch whose samples come from different same-architecture models.

Each sample carries its own model's weight ([N, O, I, k, k] stacked); modulation and demodulation are per sample,
as in `training.layers.modulated_conv2d`, and the convolution is grouped over the batch. Whether this beats one
call per model is for `benchmarks/cross_model_batch.py` (not written yet) to show; the renderer does not use it.
"""

from __future__ import annotations

import torch

from training.resample import conv2d_resample


def per_sample_modulated_conv2d(x: torch.Tensor, weights: torch.Tensor, styles: torch.Tensor, *, up: int = 1,
                                padding: int = 0, resample_filter: torch.Tensor | None = None,
                                demodulate: bool = True) -> torch.Tensor:
    """x [N, I, H, W], weights [N, O, I, k, k] (sample n's model's weight), styles [N, I] -> [N, O, H', W']."""
    batch, out_channels, in_channels, kh, kw = weights.shape
    w = weights * styles.reshape(batch, 1, -1, 1, 1)
    if demodulate:
        w = w * (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt().reshape(batch, -1, 1, 1, 1)
    x = x.reshape(1, batch * in_channels, x.shape[2], x.shape[3])
    x = conv2d_resample(x, w.reshape(batch * out_channels, in_channels, kh, kw).to(x.dtype), resample_filter,
                        up=up, padding=padding, groups=batch)
    return x.reshape(batch, out_channels, x.shape[2], x.shape[3])
