"""The checkpoint container: atomic, safe to open, and loud about damage."""

import os
import pickle

import pytest
import torch

from training.checkpoint import load_checkpoint, save_checkpoint
from training.errors import DataError, UsageError


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def payload():
    g = torch.Generator().manual_seed(3)
    return {"G": {"w": torch.randn(4, 4, generator=g)}, "progress": {"cur_nimg": 4000, "kimg": 4.0},
            "config": {"batch": 4, "name": "x", "nested": [1, 2.5, None]}, "rng": torch.get_rng_state()}


def test_roundtrip_with_weights_only(tmp_path):
    path = tmp_path / "snapshot-000004.pt"
    save_checkpoint(path, payload())
    data = torch.load(path, weights_only=True)  # the contract: opens without running code
    assert data["format"] == "likeness-checkpoint"
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["G"]["w"], payload()["G"]["w"])
    assert loaded["config"] == payload()["config"]
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot-000004.pt"]


def test_truncated_checkpoint_is_a_data_error(tmp_path):
    path = tmp_path / "s.pt"
    save_checkpoint(path, payload())
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30):
        path.write_bytes(data[:cut])
        with pytest.raises(DataError, match="truncated|not a likeness checkpoint"):
            load_checkpoint(path)


def test_foreign_and_malicious_files(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"state": torch.zeros(1)}, plain)
    with pytest.raises(DataError, match="not a likeness checkpoint"):
        load_checkpoint(plain)
    evil = tmp_path / "evil.pt"
    torch.save({"format": "likeness-checkpoint", "x": Evil()}, evil)
    with pytest.raises(DataError, match="cannot be read"):
        load_checkpoint(evil)
    pkl = tmp_path / "network.pkl"
    pkl.write_bytes(pickle.dumps({"G": 1}))
    with pytest.raises(DataError, match="likeness import"):
        load_checkpoint(pkl)
    with pytest.raises(UsageError):
        load_checkpoint(tmp_path / "missing.pt")


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "s.pt"
    save_checkpoint(path, payload())
    data = torch.load(path, weights_only=True)
    data["format_version"] = 99
    torch.save(data, path)
    with pytest.raises(DataError, match="newer likeness"):
        load_checkpoint(path)


def test_weights_that_do_not_fit_their_config(tmp_path):
    from training.checkpoint import build_network
    from training.networks import Generator

    kwargs = dict(z_dim=8, w_dim=8, img_resolution=8, mapping_layers=1, channel_base=64, channel_max=16)
    state = Generator(**kwargs).state_dict()
    with pytest.raises(DataError, match="do not fit"):
        build_network("G", {**kwargs, "channel_max": 8}, state)
    state.pop("mapping.fc0.weight")
    with pytest.raises(DataError, match="missing: mapping.fc0.weight"):
        build_network("G", kwargs, state)
