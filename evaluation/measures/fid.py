"""FID as NVIDIA's fid50k_full: Frechet distance of the real and fake feature Gaussians (all reals, N fakes)."""

from __future__ import annotations

from evaluation.measures.base import Inputs, Measured, Metric, plain_column, plain_summary


def compute(inputs: Inputs) -> list[Measured]:
    from evaluation.fid import fid_from_stats
    from evaluation.stats import FeatureAccumulator

    acc = FeatureAccumulator()
    acc.add(inputs.fake)
    fake_stats = acc.stats(inception_sha256=inputs.real_stats.inception_sha256)
    return [("fid", fid_from_stats(inputs.real_stats, fake_stats), {})]


METRIC = Metric(
    name="fid", records=("fid",), compute=compute,
    help="Frechet Inception Distance, as NVIDIA's fid50k_full (lower is closer)",
    columns=(plain_column("FID", "fid", ".3f"),), summary=plain_summary("FID", "fid", "9.3f"))
