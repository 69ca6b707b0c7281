"""Networks start with zero biases, noise strengths and w_avg; comparisons need them non-zero to mean anything."""

import torch


def randomise(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Add seeded noise to every bias and noise strength and draw w_avg, so that each of them shows in the output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("noise_strength") or name.endswith("bias"):
                p.add_(torch.randn(p.shape, generator=gen) * 0.3)
        for name, b in module.named_buffers():
            if name.endswith("w_avg"):
                b.copy_(torch.randn(b.shape, generator=gen))
    return module
