"""Memorisation: the share of fakes that are near-copies of a training frame (see evaluation/memorisation.py)."""

from __future__ import annotations

from evaluation.measures.base import Column, Inputs, Measured, Metric, Row, record_cell, percent


def compute(inputs: Inputs) -> list[Measured]:
    from evaluation.memorisation import memorisation, record_details

    result = memorisation(inputs.real, inputs.fake, inputs.index, percentile=inputs.copy_percentile,
                          window_s=inputs.copy_window_s)
    return [("memorisation", result.share, record_details(result, inputs.index, inputs.dataset.names))]


def cell(row: Row) -> str:
    return record_cell(row, "memorisation", lambda r: f"{percent(r['value'])} ({r['details'].get('near_copies')}/{r.get('num_fakes')})")


def summary(values) -> list[str]:
    return [f"near-copies {percent(values['memorisation'][0])}"] if "memorisation" in values else []


METRIC = Metric(
    name="memorisation", records=("memorisation",), compute=compute, columns=(Column("near-copies", cell),),
    summary=summary,
    help="share of fakes that are near-copies of a training frame: nearer to their nearest frame than\n"
         "the --copy-percentile of real frames are to their nearest non-adjacent frame (frames within\n"
         "--copy-window seconds of the same source are left out: consecutive video frames look alike)")
