"""Every metric `likeness evaluate` knows, registered in one place: a new metric is one new file and one line here.

Each module holds one `Metric` record (see base.py): its `--metrics` name, the metrics.jsonl names it writes, how it
is computed, its columns in the report's table, its words in evaluate's output and its line in `--help`. The order
below is the order of the log, the table and the help.
"""

from __future__ import annotations

from evaluation.measures import coverage, diversity, fid, kid, memorisation, precision_recall, separability, sitting_map
from evaluation.measures.base import Column, Inputs, Measured, Metric

METRICS: list[Metric] = [
    fid.METRIC,
    kid.METRIC,
    precision_recall.METRIC,
    memorisation.METRIC,
    separability.METRIC,
    coverage.METRIC,
    diversity.METRIC,
    sitting_map.METRIC,
]


def register(metric: Metric) -> Metric:
    """Add a metric at the end (a plug-in, or a test); its --metrics name and record names must be new."""
    taken = {m.name for m in METRICS} | {r for m in METRICS for r in m.records}
    clash = ({metric.name} | set(metric.records)) & taken
    if clash:
        raise ValueError(f"metric names already registered: {', '.join(sorted(clash))}")
    METRICS.append(metric)
    return metric


def unregister(metric: Metric) -> None:
    METRICS.remove(metric)


def by_name() -> dict[str, Metric]:
    return {m.name: m for m in METRICS}


def record_names(groups: tuple[str, ...] | list[str] | None = None) -> list[str]:
    """The metrics.jsonl names these --metrics names write (all when None), in registry order."""
    return [r for m in METRICS if groups is None or m.name in groups for r in m.records]


def help_lines(indent: int = 16) -> str:
    """The --help text of every metric: name, then its help, continuation lines aligned."""
    out = []
    for m in METRICS:
        first, *rest = m.help.split("\n")
        out.append(f"  {m.name:<{indent - 2}}{first}")
        out += [" " * indent + line for line in rest]
    return "\n".join(out)


__all__ = ["Column", "Inputs", "METRICS", "Measured", "Metric", "by_name", "help_lines", "record_names", "register",
           "unregister"]
