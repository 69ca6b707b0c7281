"""The per-sample-weight modulated convolution equals each model's own modulated_conv2d on its samples."""

import torch

from installation.cross_batch import per_sample_modulated_conv2d
from training.layers import modulated_conv2d
from training.resample import setup_filter


def test_per_sample_weights_match_one_call_per_model():
    torch.manual_seed(0)
    weights = [torch.randn(6, 5, 3, 3) for _ in range(3)]  # three models, two samples each
    x, styles = torch.randn(6, 5, 8, 8), torch.randn(6, 5) + 1
    owner = [0, 0, 1, 1, 2, 2]
    f = setup_filter((1, 3, 3, 1))
    for up, demodulate in ((1, True), (2, True), (1, False)):
        got = per_sample_modulated_conv2d(x, torch.stack([weights[m] for m in owner]), styles, up=up, padding=1,
                                          resample_filter=f, demodulate=demodulate)
        want = torch.cat([modulated_conv2d(x[2 * m:2 * m + 2], weights[m], styles[2 * m:2 * m + 2], up=up,
                                           padding=1, resample_filter=f, demodulate=demodulate)
                          for m in range(3)])
        assert got.shape == want.shape and torch.allclose(got, want, rtol=1e-4, atol=1e-5)
