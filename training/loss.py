"""The StyleGAN2 loss: non-saturating logistic loss, lazy R1, path-length regularisation, style mixing.

Four phases per step, as in NVIDIA's stylegan2-ada-pytorch / stylegan3 (`training/loss.py`):
- Gmain: softplus(-D(G(z))), the generator's non-saturating loss;
- Greg: path-length penalty (pl_weight * (|J^T y| - a)^2) on a batch shrunk by pl_batch_shrink, every few steps;
- Dmain: softplus(D(G(z))) + softplus(-D(x));
- Dreg: R1 = gamma/2 * |grad_x D(x)|^2 on reals, every few steps.
Each round's loss is multiplied by `gain` = interval / rounds-in-the-global-batch, so that gradients summed over
rounds and ranks are the global batch's mean (lazy regularisation scaled by its interval, as NVIDIA does).

Two running statistics are kept so that they do not depend on how the batch is split over processes:
- `pl_mean`: every round's penalty uses lerp(pl_mean, round's mean length, pl_decay), as NVIDIA's does; after the
  phase, pl_mean moves once toward the mean over all rounds of the global batch. With one round per step (one
  GPU, batch_gpu = batch) this is exactly NVIDIA's update.
- `w_avg` (the truncation centre): the Dmain phase sums the mapped w of its fakes, and after the phase w_avg moves
  once toward the global batch's mean with the mapping network's w_avg_beta. NVIDIA's `update_emas=True` does the
  same per round and per rank; this version is identical for every process count. It does not affect gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

PHASES = ("Gmain", "Greg", "Dmain", "Dreg")


@dataclass
class LossSettings:
    r1_gamma: float
    style_mixing_prob: float = 0.9
    pl_weight: float = 2.0
    pl_batch_shrink: int = 2
    pl_decay: float = 0.01


class Stats:
    """Loss values summed on the device between tick ends: reading them is the only host sync of a tick."""

    def __init__(self, device: torch.device):
        self.device = device
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, values: torch.Tensor) -> None:
        values = values.detach()
        if name not in self.sums:
            self.sums[name] = torch.zeros([], device=self.device, dtype=torch.float64)
            self.counts[name] = 0
        self.sums[name] += values.to(torch.float64).sum()
        self.counts[name] += values.numel()

    def reset(self) -> None:
        self.sums.clear()
        self.counts.clear()


class StyleGAN2Loss:
    """Accumulates one round's gradients of one phase into the networks' `.grad` (see module docstring)."""

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, settings: LossSettings, *,
                 G_mapping: Callable | None = None, G_synthesis: Callable | None = None,
                 D_fast: Callable | None = None):
        self.G = G
        self.D = D
        self.s = settings
        # Compiled forwards for the main phases; the regularisers need double backward, which stays eager.
        self.G_mapping_fast = G.mapping if G_mapping is None else G_mapping
        self.G_synthesis_fast = G.synthesis if G_synthesis is None else G_synthesis
        self.D_fast = D if D_fast is None else D_fast
        device = next(G.parameters()).device
        self.pl_mean = torch.zeros([], device=device)
        self._pl_start: torch.Tensor | None = None

    # -- forward helpers ---------------------------------------------------------------------------------------

    def run_G(self, z: torch.Tensor, c: torch.Tensor | None, fast: bool) -> tuple[torch.Tensor, torch.Tensor,
                                                                                    torch.Tensor]:
        """Images, the (mixed) ws fed to synthesis, and the unmixed w of each sample [N, w_dim].

        Style mixing switches to a second latent from a random layer on, with probability style_mixing_prob; the
        cut-off is drawn on the device and applied as a mask, so there is no host sync and no data-dependent shape.
        """
        mapping = self.G_mapping_fast if fast else self.G.mapping
        synthesis = self.G_synthesis_fast if fast else self.G.synthesis
        ws = mapping(z, c)
        w = ws[:, 0]
        if self.s.style_mixing_prob > 0:
            num_ws = ws.shape[1]
            cutoff = torch.randint(1, num_ws, [], device=ws.device)
            cutoff = torch.where(torch.rand([], device=ws.device) < self.s.style_mixing_prob, cutoff,
                                 torch.full_like(cutoff, num_ws))
            mixed = mapping(torch.randn_like(z), c)
            take_second = (torch.arange(num_ws, device=ws.device) >= cutoff).reshape(1, -1, 1)
            ws = torch.where(take_second, mixed, ws)
        img = synthesis(ws, noise_mode="random")
        return img, ws, w

    # -- phases ------------------------------------------------------------------------------------------------

    def start_phase(self, phase: str) -> None:
        if phase == "Greg":
            self._pl_start = self.pl_mean.clone()

    def accumulate(self, phase: str, real_img: torch.Tensor, real_c: torch.Tensor | None, gen_z: torch.Tensor,
                   gen_c: torch.Tensor | None, gain: float, stats: Stats, extra: torch.Tensor) -> None:
        """Forward and backward of one round. `extra` is the phase's spare all-reduce slots (see FlatGrads)."""
        if phase == "Gmain":
            self._g_main(gen_z, gen_c, gain, stats)
        elif phase == "Greg":
            self._g_pl(gen_z, gen_c, gain, stats, extra)
        elif phase == "Dmain":
            self._d_main(real_img, real_c, gen_z, gen_c, gain, stats, extra)
        elif phase == "Dreg":
            self._d_r1(real_img, real_c, gain, stats)
        else:
            raise ValueError(f"unknown phase {phase!r}")

    def finish_phase(self, phase: str, extra: torch.Tensor, rounds: int, batch: int) -> None:
        """Apply the phase's running-statistic updates from the all-reduced spare slots."""
        if phase == "Greg":
            mean_length = extra[0] / rounds
            self.pl_mean.copy_(self._pl_start.lerp(mean_length, self.s.pl_decay))
        elif phase == "Dmain":
            mapping = self.G.mapping
            if getattr(mapping, "w_avg_beta", None) is not None:
                w_mean = extra[:mapping.w_dim] / batch
                mapping.w_avg.copy_(w_mean.lerp(mapping.w_avg, mapping.w_avg_beta))

    def _g_main(self, gen_z, gen_c, gain, stats):
        gen_img, _, _ = self.run_G(gen_z, gen_c, fast=True)
        gen_logits = self.D_fast(gen_img, gen_c)
        loss = F.softplus(-gen_logits)
        stats.add("loss_G", loss)
        loss.mean().mul(gain).backward()

    def _g_pl(self, gen_z, gen_c, gain, stats, extra):
        n = max(1, gen_z.shape[0] // self.s.pl_batch_shrink)
        gen_img, gen_ws, _ = self.run_G(gen_z[:n], None if gen_c is None else gen_c[:n], fast=False)
        pl_noise = torch.randn_like(gen_img) / math.sqrt(gen_img.shape[2] * gen_img.shape[3])
        (pl_grads,) = torch.autograd.grad(outputs=[(gen_img * pl_noise).sum()], inputs=[gen_ws], create_graph=True)
        pl_lengths = pl_grads.square().sum(2).mean(1).sqrt()
        round_mean = pl_lengths.mean()
        pl_mean = self._pl_start.lerp(round_mean, self.s.pl_decay)
        penalty = (pl_lengths - pl_mean).square()
        stats.add("pl_penalty", penalty)
        extra[0] += round_mean.detach()
        loss = penalty * self.s.pl_weight
        # The zero term keeps the image in the graph so every synthesis parameter receives a (possibly zero) grad.
        (gen_img[:, 0, 0, 0] * 0 + loss).mean().mul(gain).backward()

    def _d_main(self, real_img, real_c, gen_z, gen_c, gain, stats, extra):
        with torch.no_grad():
            gen_img, _, w = self.run_G(gen_z, gen_c, fast=True)
        extra[:w.shape[1]] += w.sum(dim=0)
        gen_logits = self.D_fast(gen_img, gen_c)
        loss_fake = F.softplus(gen_logits)
        real_logits = self.D_fast(real_img, real_c)
        loss_real = F.softplus(-real_logits)
        # One backward per round (NVIDIA runs two): each round then adds exactly one term to a parameter's
        # gradient, so one process with R rounds and R processes with one round sum the same numbers.
        (loss_fake.mean() + loss_real.mean()).mul(gain).backward()
        stats.add("score_fake", gen_logits)
        stats.add("score_real", real_logits)
        stats.add("loss_D_fake", loss_fake)
        stats.add("loss_D_real", loss_real)
        stats.add("loss_D", loss_fake + loss_real)

    def _d_r1(self, real_img, real_c, gain, stats):
        real = real_img.detach().requires_grad_(True)
        real_logits = self.D(real, real_c)
        (r1_grads,) = torch.autograd.grad(outputs=[real_logits.sum()], inputs=[real], create_graph=True)
        penalty = r1_grads.square().sum([1, 2, 3])
        stats.add("r1_penalty", penalty)
        (real_logits * 0 + penalty * (self.s.r1_gamma / 2)).mean().mul(gain).backward()
