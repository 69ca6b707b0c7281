"""Separability: cross-validated accuracy of a logistic-regression probe telling fakes from reals."""

from __future__ import annotations

from evaluation.measures.base import Column, Inputs, Measured, Metric, Row, record_cell, percent


def compute(inputs: Inputs) -> list[Measured]:
    from evaluation.separability import FOLDS, MAX_PER_CLASS, probe_accuracy

    probe = probe_accuracy(inputs.real, inputs.fake)
    if probe is None:
        return [("separability", None, {"note": f"needs at least {FOLDS} real frames and {FOLDS} fakes"})]
    return [("separability", probe.accuracy, {
        "std": probe.std, "folds": FOLDS, "per_class": probe.per_class, "max_per_class": MAX_PER_CLASS,
        "fold_accuracies": probe.fold_accuracies, "l2": "1/n_train (scikit-learn C=1)"})]


def cell(row: Row) -> str:
    return record_cell(row, "separability", lambda r: f"{percent(r['value'])} ± {100 * r['details'].get('std', 0):.1f}")


def summary(values) -> list[str]:
    if "separability" not in values:
        return []
    value, details = values["separability"]
    return ["separability n/a" if value is None else
            f"separability {100 * value:.1f}% +- {100 * details['std']:.1f}"]


METRIC = Metric(
    name="separability", records=("separability",), compute=compute, columns=(Column("separability ± std", cell),),
    summary=summary,
    help="accuracy of a logistic-regression probe telling fakes from reals (5-fold cross-validated;\n"
         "50% = it cannot tell them apart)")
