"""KID: unbiased squared MMD with the cubic polynomial kernel, mean over NVIDIA's random subsets (kid50k_full)."""

from __future__ import annotations

from evaluation.measures.base import Column, Inputs, Measured, Metric, Row, record_cell


def compute(inputs: Inputs) -> list[Measured]:
    from evaluation.kid import MAX_SUBSET_SIZE, NUM_SUBSETS, kid_subsets_on_device

    subsets = kid_subsets_on_device(inputs.real, inputs.fake, seed=0)
    size = min(inputs.real.shape[0], inputs.fake.shape[0], MAX_SUBSET_SIZE)
    return [("kid", float(subsets.mean()), {"std": float(subsets.std()), "num_subsets": NUM_SUBSETS,
                                             "subset_size": size})]


def cell(row: Row) -> str:
    return record_cell(row, "kid", lambda r: f"{r['value']:.5f} ± {r['details'].get('std', 0):.5f}")


METRIC = Metric(
    name="kid", records=("kid",), compute=compute,
    help="Kernel Inception Distance, unbiased, 100 subsets as NVIDIA's kid50k_full",
    columns=(Column("KID ± std", cell),),
    summary=lambda values: [f"KID {values['kid'][0]:.5f}"] if "kid" in values else [])
