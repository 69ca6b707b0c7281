"""The pieces of `likeness train` in-process: sampling, loss terms, gradient buffer, run-folder bookkeeping."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from training.distributed import DistEnv, FlatGrads
from training.errors import UsageError
from training.loss import LossSettings, Stats, StyleGAN2Loss
from training.networks import Discriminator, Generator
from training.run_folder import (LogFile, RunLock, choose_label, forget_after, list_snapshots, new_run_dir,
                                 pin_snapshot, prune_snapshots, read_pins, snapshot_nimg, unpin_snapshot, used_labels)
from training.sampling import IndexStream, StepBatchSampler, epoch_permutation, round_seed

CPU = torch.device("cpu")
ONE = DistEnv(rank=0, world_size=1, local_rank=0, device=CPU)


def tiny_nets(res: int = 8, seed: int = 0) -> tuple[Generator, Discriminator]:
    torch.manual_seed(seed)
    G = Generator(img_resolution=res, z_dim=8, w_dim=8, mapping_layers=2, channel_base=64, channel_max=16)
    D = Discriminator(img_resolution=res, channel_base=64, channel_max=16, mbstd_group_size=2)
    return G, D


# -- sampling ----------------------------------------------------------------------------------------------------


def test_ranks_split_the_global_batch_into_the_single_process_rounds():
    single = StepBatchSampler(10, seed=3, batch=8, batch_gpu=2)
    ranks = [StepBatchSampler(10, seed=3, batch=8, batch_gpu=2, rank=r, world_size=2) for r in range(2)]
    for step in range(7):
        whole = single.indices_for_step(step)
        rounds = [whole[i:i + 2] for i in range(0, 8, 2)]
        assert ranks[0].indices_for_step(step) == rounds[0] + rounds[2]
        assert ranks[1].indices_for_step(step) == rounds[1] + rounds[3]


def test_index_stream_visits_every_frame_once_per_epoch_and_starts_anywhere():
    stream = IndexStream(7, seed=11)
    first_three_epochs = stream.take(0, 21)
    for epoch in range(3):
        assert sorted(first_three_epochs[epoch * 7:(epoch + 1) * 7]) == list(range(7))
    assert IndexStream(7, seed=11).take(5, 9) == first_three_epochs[5:14]  # a resumed stream joins seamlessly
    assert first_three_epochs[:7] == epoch_permutation(11, 0, 7).tolist()
    assert IndexStream(7, seed=12).take(0, 21) != first_three_epochs
    sampler = iter(StepBatchSampler(7, seed=11, batch=4, batch_gpu=4, start_step=2))
    assert next(sampler) == first_three_epochs[8:12]


def test_round_seeds_differ_in_every_coordinate():
    seeds = {round_seed(s, b, p, r) for s in (0, 1) for b in (0, 1, 2) for p in range(4) for r in range(3)}
    assert len(seeds) == 2 * 3 * 4 * 3 and all(0 <= s < 2 ** 63 for s in seeds)


# -- loss --------------------------------------------------------------------------------------------------------


def test_logistic_losses_have_the_non_saturating_signs():
    G, D = tiny_nets()
    loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=1.0, style_mixing_prob=0.0))
    stats = Stats(CPU)
    z = torch.randn(4, 8)
    real = torch.rand(4, 3, 8, 8) * 2 - 1
    G.requires_grad_(True)
    torch.manual_seed(5)
    loss.accumulate("Gmain", real, None, z, None, 1.0, stats, torch.zeros(9))
    torch.manual_seed(5)
    with torch.no_grad():
        fake = G(z, noise_mode="random")
        expected_g = F.softplus(-D(fake)).mean()
    assert float(stats.sums["loss_G"]) / stats.counts["loss_G"] == pytest.approx(float(expected_g), rel=1e-6)

    G.requires_grad_(False)
    D.requires_grad_(True)
    torch.manual_seed(6)
    loss.accumulate("Dmain", real, None, z, None, 1.0, stats, torch.zeros(9))
    torch.manual_seed(6)
    with torch.no_grad():
        fake = G(z, noise_mode="random")
        expected_d = (F.softplus(D(fake)) + F.softplus(-D(real))).mean()
    assert float(stats.sums["loss_D"]) / stats.counts["loss_D"] == pytest.approx(float(expected_d), rel=1e-6)


def test_r1_penalty_matches_finite_differences_of_the_discriminator():
    _, D = tiny_nets(seed=1)
    D.requires_grad_(True)
    loss = StyleGAN2Loss(tiny_nets()[0], D, LossSettings(r1_gamma=1.0))
    stats = Stats(CPU)
    real = torch.rand(2, 3, 8, 8) * 2 - 1
    loss.accumulate("Dreg", real, None, torch.zeros(2, 8), None, 1.0, stats, torch.zeros(9))
    r1 = float(stats.sums["r1_penalty"]) / stats.counts["r1_penalty"]

    # d(sum of logits)/d(pixel) by central differences (the minibatch-stddev layer couples the samples).
    eps = 1e-2
    flat = real.flatten().clone()
    grads = torch.zeros_like(flat)
    with torch.no_grad():
        for i in range(flat.numel()):
            plus, minus = flat.clone(), flat.clone()
            plus[i] += eps
            minus[i] -= eps
            grads[i] = (D(plus.view_as(real)).sum() - D(minus.view_as(real)).sum()) / (2 * eps)
    reference = grads.view_as(real).square().sum(dim=[1, 2, 3]).mean()
    assert r1 == pytest.approx(float(reference), rel=2e-2)


def test_style_mixing_switches_latents_once():
    G, D = tiny_nets()
    loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=1.0, style_mixing_prob=0.9))
    z = torch.randn(3, 8)
    mixed_count = 0
    for seed in range(12):
        torch.manual_seed(seed)
        with torch.no_grad():
            _, ws, w = loss.run_G(z, None, fast=False)
        same = (ws == w[:, None, :]).all(dim=2).all(dim=0)  # [num_ws]: layer still uses the first latent
        cutoff = int(same.long().sum())
        assert same[:cutoff].all() and not same[cutoff:].any() and cutoff >= 1
        if cutoff < G.num_ws:
            mixed_count += 1
            assert (ws[:, cutoff:] == ws[:, -1:]).all()  # one second latent for the rest
    assert 6 <= mixed_count <= 12


def test_rounds_with_gain_accumulate_the_mean_gradient():
    G, D = tiny_nets(seed=2)
    D.requires_grad_(True)
    grads = FlatGrads(list(D.parameters()), extra=9, device=CPU)
    loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=1.0, style_mixing_prob=0.0))
    reals = [torch.rand(2, 3, 8, 8) * 2 - 1 for _ in range(2)]
    zs = [torch.randn(2, 8) for _ in range(2)]
    grads.zero_()
    for i in range(2):
        torch.manual_seed(i)
        loss.accumulate("Dmain", reals[i], None, zs[i], None, 0.5, Stats(CPU), grads.extra)
    grads.check_views()
    accumulated = grads.flat[:-9].clone()

    params = list(D.parameters())
    total = 0
    for i in range(2):
        torch.manual_seed(i)
        with torch.no_grad():
            fake = G(zs[i], noise_mode="random")
        total = total + (F.softplus(D(fake)).mean() + F.softplus(-D(reals[i])).mean()) / 2
    reference = torch.cat([g.flatten() for g in torch.autograd.grad(total, params)])
    assert torch.allclose(accumulated, reference, rtol=1e-5, atol=1e-7)
    assert torch.allclose(grads.extra[:8], sum(G.mapping(z, None)[:, 0].sum(0) for z in zs).detach(), rtol=1e-5)

    grads.flat[0] = float("nan")
    grads.flat[1] = float("inf")
    grads.reduce_(ONE)
    assert grads.flat[0] == 0 and grads.flat[1] == 1e5


def test_path_length_mean_moves_once_per_phase_toward_the_batch_mean():
    G, D = tiny_nets(seed=3)
    G.requires_grad_(True)
    loss = StyleGAN2Loss(G, D, LossSettings(r1_gamma=1.0, pl_decay=0.25))
    loss.pl_mean.fill_(0.5)
    grads = FlatGrads(list(G.parameters()), extra=9, device=CPU)
    loss.start_phase("Greg")
    stats = Stats(CPU)
    for i in range(3):
        torch.manual_seed(i)
        loss.accumulate("Greg", None, None, torch.randn(4, 8), None, 1.0, stats, grads.extra)
    round_means = float(grads.extra[0]) / 3
    loss.finish_phase("Greg", grads.extra, rounds=3, batch=12)
    assert float(loss.pl_mean) == pytest.approx(0.5 + 0.25 * (round_means - 0.5), rel=1e-6)
    assert stats.counts["pl_penalty"] == 3 * 2  # pl_batch_shrink halves each round


def test_mirror_doubles_the_dataset_with_flipped_frames_and_labels_become_one_hot(tmp_path):
    import numpy as np

    from train_datasets import frames, write_zip
    from training.dataset import ImageDataset
    from training.sampling import TrainingImages
    from training.train_config import label_dim, label_table

    dataset = ImageDataset(write_zip(tmp_path / "d.zip", frames(3, 8, 0)))
    mirrored = TrainingImages(dataset, mirror=True)
    assert len(mirrored) == 6 and len(TrainingImages(dataset, mirror=False)) == 3
    for i in range(3):
        image, frame = mirrored[3 + i]
        assert frame == i and torch.equal(image, torch.from_numpy(np.ascontiguousarray(dataset[i].numpy()[:, :, ::-1])))
        assert torch.equal(mirrored[i][0], dataset[i])
    dataset.labels = np.array([2, 0, 2])
    assert label_dim(dataset) == 3
    assert label_table(dataset, 3).tolist() == [[0, 0, 1], [1, 0, 0], [0, 0, 1]]


# -- run folder --------------------------------------------------------------------------------------------------


def test_snapshot_names_sort_by_images_and_stay_unique(tmp_path):
    assert choose_label(4128, fractional_interval=False, taken=set()) == "000004"
    assert choose_label(4128, fractional_interval=False, taken={"000004"}) == "000004.128"
    assert choose_label(96, fractional_interval=True, taken=set()) == "000000.096"
    assert snapshot_nimg("snapshot-000004.128.pt") == 4128 and snapshot_nimg("snapshot-000200.pt") == 200000
    assert snapshot_nimg("fakes000004.png") is None and snapshot_nimg("snapshot-4.pt") is None
    for name in ("snapshot-000004.pt", "snapshot-000003.900.pt", "snapshot-000010.pt", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_snapshots(tmp_path)] == ["snapshot-000003.900.pt", "snapshot-000004.pt",
                                                           "snapshot-000010.pt"]


def test_retention_keeps_the_newest_and_the_pinned(tmp_path):
    names = [f"snapshot-{k:06d}.pt" for k in range(0, 60, 10)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    pin_snapshot(tmp_path, names[1], "best")
    pin_snapshot(tmp_path, tmp_path / names[2], "approved")
    unpin_snapshot(tmp_path, names[2])
    assert read_pins(tmp_path) == {names[1]: "best"}
    removed = prune_snapshots(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == [names[0], names[2], names[3]]
    assert [p.name for p in list_snapshots(tmp_path)] == [names[1], names[4], names[5]]
    assert prune_snapshots(tmp_path, keep=0) == []
    with pytest.raises(UsageError, match="does not exist"):
        pin_snapshot(tmp_path, names[0], "best")
    with pytest.raises(UsageError, match="not a snapshot"):
        pin_snapshot(tmp_path, "config.json", "best")


def test_run_numbers_and_the_training_lock(tmp_path):
    (tmp_path / "ana" / "00003-old").mkdir(parents=True)
    (tmp_path / "ana" / "notes").mkdir()
    run = new_run_dir(tmp_path, "ana", "ana-1fps-auto")
    assert run.name == "00004-ana-1fps-auto"
    assert new_run_dir(tmp_path, "ana", "again").name == "00005-again"
    lock = RunLock(run)
    lock.acquire()
    with pytest.raises(UsageError, match="being trained right now"):
        RunLock(run).acquire()
    lock.release()
    RunLock(run).acquire()


def test_log_truncation_drops_ticks_after_the_resume_point_and_cut_lines(tmp_path):
    log = LogFile(tmp_path)
    for nimg in (8, 16, 24, 32):
        log.append({"tick": nimg // 8, "nimg": nimg})
    with open(log.path, "a") as f:
        f.write('{"tick": 5, "ni')  # a kill in the middle of a line
    assert [r["nimg"] for r in log.truncate_after(16)] == [24, 32]
    assert [json.loads(line)["nimg"] for line in log.path.read_text().splitlines()] == [8, 16]


def test_a_resume_forgets_the_grids_and_temporaries_of_lost_work(tmp_path):
    log = LogFile(tmp_path)
    for nimg, grid in ((1000, "fakes000001.png"), (1500, None), (2000, "fakes000002.png")):
        log.append({"tick": nimg // 500, "nimg": nimg, **({"grid": grid} if grid else {})})
        if grid:
            (tmp_path / grid).write_bytes(b"png")
    (tmp_path / "snapshot-000001.pt").write_bytes(b"pt")
    (tmp_path / ".snapshot-000002.pt.likeness-tmp-123").write_bytes(b"half")
    forget_after(tmp_path, 1500)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fakes000001.png", "log.jsonl", "snapshot-000001.pt"]
    assert used_labels(tmp_path) == {"000001"}
