"""The report's sections about the sitting as a film: coverage along each source's time with the longest uncovered
stretches, the 2-D map of frames and fakes, and the mode-collapse warning. Drawn from the best snapshot's records."""

from __future__ import annotations

from typing import Any

from evaluation.measures.diversity import WARNING_RATIO
from evaluation.report_doc import Doc, Image
from evaluation.sitting_charts import coverage_timeline, sitting_map
from training.footage.timecode import format_clock

Row = dict[str, dict[str, Any]]


def _when(value: float, unit: str) -> str:
    return format_clock(value) if unit == "s" else f"frame {value:g}"


def measured_record(doc: Doc, row: Row, metric: str, heading: str, note_key: str = "note",
                    missing: str = "Not measurable") -> dict[str, Any] | None:
    """The section's heading, then its record when it has a value; otherwise one line saying why not, and None."""
    record = row.get(metric)
    doc.heading(heading)
    if record is None:
        doc.paragraph(f"Not measured for this snapshot (`likeness evaluate --metrics {metric}`).")
        return None
    if record["value"] is None:
        doc.paragraph(f"{missing}: {record['details'].get(note_key)}.")
        return None
    return record


def diversity_warning(doc: Doc, row: Row) -> None:
    record = row.get("diversity")
    if record is None or record["value"] is None or record["value"] >= WARNING_RATIO:
        return
    d = record["details"]
    doc.warning(f"possible mode collapse: the fakes' diversity is {record['value']:.2f} of the real frames' (mean "
                f"pairwise feature distance {d['fake']:.4g} against {d['real']:.4g}, {d['count']} of each), below "
                f"{WARNING_RATIO:g}. The model varies less than its sitter: look at the coverage timeline below for "
                "the moments it has dropped.")


def coverage_section(doc: Doc, row: Row, pictures, png, grid) -> None:
    """Timeline per source, the longest uncovered stretches, and a few frames of each (when the dataset is there)."""
    record = measured_record(doc, row, "coverage", "Coverage along the sitting")
    if record is None:
        return
    d = record["details"]
    unit = d["unit"]
    doc.paragraph(
        f"{100 * record['value']:.1f}% of the real frames ({d['covered']} of {d['judged']}) have a fake inside their "
        f"neighbourhood (the ball to their {d['k']}rd nearest other frame, frames within +-{d['window_s']:g} s of "
        "the same source left out). Each strip is one source file along its time, each stretch of it coloured "
        "from red (no frame there covered) to green (all covered): red is what the model has not learned. "
        f"Neighbours: {d['reference_note']}.")
    for source in d["timeline"]:
        doc.chart(f"coverage-{source['source']}.svg", coverage_timeline(source, unit),
                  f"{source['name']}: {source['frames']} frames, {_when(source['start'], unit)} to "
                  f"{_when(source['end'], unit)}")
    stretches = d.get("stretches") or []
    if not stretches:
        doc.paragraph("No real frame is left uncovered.")
        return
    doc.table(["source", "from", "to", "uncovered frames", "frames shown"],
              [[s["name"], _when(s["start"], unit), _when(s["end"], unit), str(s["frames"]),
                ", ".join(map(str, s["shown"]))] for s in stretches])
    if pictures is not None and pictures.dataset is not None:
        doc.images([Image(f"uncovered-{i + 1}.png", png(grid(pictures.reals(s["shown"]), len(s["shown"]))),
                          f"uncovered: {s['name']} {_when(s['start'], unit)} to {_when(s['end'], unit)} (frames "
                          f"{', '.join(map(str, s['shown']))})") for i, s in enumerate(stretches)])


def map_section(doc: Doc, row: Row) -> None:
    record = measured_record(doc, row, "map", "A map of the sitting", missing="Not drawn")
    if record is None:
        return
    d = record["details"]
    method = "t-SNE" if d["method"] == "tsne" else "PCA"
    doc.paragraph(
        f"{len(d['real'])} real frames (dots, coloured from the start of the sitting to its end) and "
        f"{len(d['fake'])} fakes (crosses) embedded together in 2-D by {method} of their Inception features. Fakes "
        "gathered on part of the path and none near another part show what the model has learned and what it "
        "missed; in t-SNE, distances between clusters mean little, only which points sit together.")
    if d.get("note"):
        doc.paragraph(f"Note: {d['note']}.")
    doc.chart("map.svg", sitting_map(d["real"], d["fake"], d["method"]), f"map of the sitting ({method})")
