"""Packing the bundled demo model: only what `--init` needs, its provenance beside it, the package's size limit."""

import json

import pytest
import torch

from installation import demo_model
from installation.demo import BUNDLED_MODEL
from training.checkpoint import load_checkpoint, load_generator
from training.errors import UsageError
from training.networks import zs_from_seeds


def test_the_bundled_model_is_small_says_where_it_came_from_and_loads():
    assert BUNDLED_MODEL.stat().st_size <= demo_model.LIMIT_BYTES
    provenance = json.loads(BUNDLED_MODEL.with_name(BUNDLED_MODEL.name + ".json").read_text())
    payload = load_checkpoint(BUNDLED_MODEL)
    assert payload["demo_model"] == provenance
    assert set(payload) <= set(demo_model.KEEP) | {"demo_model"} and {"G_ema", "D"} <= set(payload)
    assert provenance["fid"] > 0 and provenance["kimg"] > 0 and provenance["dataset_sha256"]
    assert set(provenance["sitter_seeds"]) >= {2, 14, 17}  # the demo's cast is among the sitters it learned


def test_packing_keeps_the_generator_and_drops_the_rest(tmp_path):
    out = tmp_path / "m.pt"
    size = demo_model.pack_demo_model(BUNDLED_MODEL, out, {"what": "a test", "fid": 1.0})
    assert size == out.stat().st_size
    assert json.loads((tmp_path / "m.pt.json").read_text()) == {"what": "a test", "fid": 1.0}
    with torch.no_grad():
        ours, theirs = load_generator(out), load_generator(BUNDLED_MODEL)
        z = zs_from_seeds([3, 5], ours.z_dim)
        assert torch.equal(ours(z, None, noise_mode="const"), theirs(z, None, noise_mode="const"))


def test_a_model_above_the_limit_is_refused_and_not_left(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_model, "LIMIT_BYTES", 1000)
    out = tmp_path / "m.pt"
    with pytest.raises(UsageError, match="above the 20 MB"):
        demo_model.pack_demo_model(BUNDLED_MODEL, out, {"what": "a test"})
    assert list(tmp_path.iterdir()) == []
