"""`--cfg` presets against NVIDIA's stylegan2-ada-pytorch train.py table, and `auto` worked out by hand."""

import json

import pytest

from training.errors import DataError, UsageError
from training.presets import PRESET_NAMES, preset

# (batch, mbstd, channel_base, lr, gamma, ema_kimg, mapping layers) as in NVIDIA's cfg_specs, ref_gpus=8, ramp=None.
NVIDIA_TABLE = {
    "stylegan2": (32, 4, 32768, 0.002, 10, 10, 8),
    "paper256": (64, 8, 16384, 0.0025, 1, 20, 8),
    "paper512": (64, 8, 32768, 0.0025, 0.5, 20, 8),
    "paper1024": (32, 4, 32768, 0.002, 2, 10, 8),
}


@pytest.mark.parametrize("cfg", sorted(NVIDIA_TABLE))
def test_fixed_configs_match_nvidias_table(cfg):
    batch, mbstd, base, lr, gamma, ema, layers = NVIDIA_TABLE[cfg]
    p = preset(cfg, 256, gpus=2)  # the GPU count does not change fixed configs
    assert (p["batch"], p["mbstd_group"], p["channel_base"], p["lr"], p["gamma"], p["ema_kimg"],
            p["mapping_layers"]) == (batch, mbstd, base, lr, gamma, ema, layers)
    assert p["ref_gpus"] == 8 and p["batch_gpu"] == batch // 8 and p["ema_rampup"] is None
    assert p["kimg"] == 25000


# (resolution, gpus) -> (batch, mbstd, channel_base, lr, gamma, ema_kimg), worked out from NVIDIA's formulas:
# mb = max(min(gpus * min(4096 // res, 32), 64), gpus); mbstd = min(mb // gpus, 4); fmaps = 1 if res >= 512
# else 0.5; lr = 0.002 if res >= 1024 else 0.0025; gamma = 0.0002 * res^2 / mb; ema = mb * 10 / 32.
AUTO_CASES = {
    (256, 1): (16, 4, 16384, 0.0025, 0.8192, 5.0),
    (1024, 8): (32, 4, 32768, 0.002, 6.5536, 10.0),
    (1024, 1): (4, 4, 32768, 0.002, 52.4288, 1.25),
    (128, 2): (64, 4, 16384, 0.0025, 0.0512, 20.0),
    (64, 4): (64, 4, 16384, 0.0025, 0.0128, 20.0),
    (512, 1): (8, 4, 32768, 0.0025, 6.5536, 2.5),
    (32, 1): (32, 4, 16384, 0.0025, 0.0064, 10.0),
}


@pytest.mark.parametrize("res,gpus", sorted(AUTO_CASES))
def test_auto_follows_nvidias_formulas(res, gpus):
    batch, mbstd, base, lr, gamma, ema = AUTO_CASES[(res, gpus)]
    p = preset("auto", res, gpus=gpus)
    assert (p["batch"], p["mbstd_group"], p["channel_base"], p["lr"]) == (batch, mbstd, base, lr)
    assert p["gamma"] == pytest.approx(gamma) and p["ema_kimg"] == pytest.approx(ema)
    assert p["mapping_layers"] == 2 and p["ema_rampup"] == 0.05 and p["batch_gpu"] == batch // gpus


@pytest.mark.parametrize("cfg", PRESET_NAMES)
def test_common_settings_and_json_safety(cfg):
    p = preset(cfg, 64)
    assert p["num_fp16_res"] == 4 and p["conv_clamp"] == 256 and p["channel_max"] == 512
    assert p["adam_betas"] == [0.0, 0.99] and p["g_reg_interval"] == 4 and p["d_reg_interval"] == 16
    assert p["style_mixing_prob"] == 0.9 and p["pl_weight"] == 2.0
    assert json.loads(json.dumps(p)) == p


def test_bad_requests():
    with pytest.raises(UsageError, match="unknown --cfg 'cifar'"):
        preset("cifar", 32)
    with pytest.raises(DataError, match="power of two"):
        preset("auto", 96)
    with pytest.raises(UsageError, match="GPU count"):
        preset("auto", 64, gpus=0)
