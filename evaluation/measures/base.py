"""What a metric is, as one record: what it needs, how it is computed, how it reads in the log, the table and --help.

`evaluate` computes every registered metric the same way (`Metric.compute(inputs)`), the log line, the report's
table and `likeness evaluate --help` are all drawn from these records, so a metric lives in one file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # the registry is read when the command line is built: no torch import for that
    import torch

Measured = tuple[str, Any, dict]  # (metrics.jsonl name, value or None, details)
Row = dict[str, dict[str, Any]]  # one report row: {metrics.jsonl name: its record}


@dataclass
class Inputs:
    """Everything a metric may use; features are [N, D] float32 tensors on the evaluation's device."""

    real: torch.Tensor
    fake: torch.Tensor
    real_stats: Any  # evaluation.stats.FeatureStats
    dataset: Any  # training.dataset.ImageDataset
    index: Any  # evaluation.memorisation.FrameIndex: source and time of each real frame
    copy_window_s: float
    copy_percentile: float


@dataclass(frozen=True)
class Column:
    """One column of the report's table: its header and the text of a row's cell."""

    header: str
    cell: Callable[[Row], str]


@dataclass(frozen=True)
class Metric:
    """A `--metrics` name and everything about it."""

    name: str  # the --metrics name
    records: tuple[str, ...]  # the metrics.jsonl names it writes, in this order
    help: str  # its line in `likeness evaluate --help`
    compute: Callable[[Inputs], list[Measured]]
    columns: tuple[Column, ...] = ()
    summary: Callable[[dict[str, tuple[Any, dict]]], list[str]] = field(default=lambda values: [])


# -- formatting shared by the records -------------------------------------------------------------------------------

def num(value: Any, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def percent(value: Any, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def value_of(row: Row, metric: str) -> Any:
    return row[metric]["value"] if metric in row else None


def record_cell(row: Row, metric: str, text: Callable[[dict[str, Any]], str]) -> str:
    """text(record) for a measured value, "n/a" when the row lacks the metric or its value is None."""
    record = row.get(metric)
    return "n/a" if record is None or record["value"] is None else text(record)


def plain_column(header: str, metric: str, fmt: str) -> Column:
    return Column(header, lambda row: num(value_of(row, metric), fmt))


def plain_summary(word: str, metric: str, fmt: str) -> Callable[[dict[str, tuple[Any, dict]]], list[str]]:
    def summary(values: dict[str, tuple[Any, dict]]) -> list[str]:
        return [f"{word} {num(values[metric][0], fmt)}"] if metric in values else []
    return summary
