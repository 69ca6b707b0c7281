"""Precision and recall, k = 3: the published definition (Kynkäänniemi et al. 2019) and precision for video datasets.

`precision` and `recall` are the published metric, kept so that they compare with other work. `precision_video`
measures the same share of fakes inside the real manifold, but each real frame's radius leaves out the frames within
--copy-window seconds of it in the same source: otherwise its neighbours are the frames just before and after it,
the radii are tiny, and even good fakes fall outside (0.016 at FID 34 in our 16 px check).
"""

from __future__ import annotations

from evaluation.measures.base import Column, Inputs, Measured, Metric, Row, num, plain_column, value_of

FEATURES = "Inception pool (NVIDIA's pr50k3 uses VGG16 features)"


def compute(inputs: Inputs) -> list[Measured]:
    from evaluation.precision_recall import NEIGHBOURHOOD, precision_recall, video_precision

    details = {"k": NEIGHBOURHOOD, "features": FEATURES, "definition": "published (Kynkäänniemi et al. 2019)"}
    video = {"k": NEIGHBOURHOOD, "features": FEATURES, "window_s": inputs.copy_window_s,
             "definition": "real radii leave out frames within window_s of the same source",
             "reference_note": inputs.index.note}
    if min(inputs.real.shape[0], inputs.fake.shape[0]) <= NEIGHBOURHOOD:
        note = f"needs more than {NEIGHBOURHOOD} real frames and fakes"
        return [(m, None, {**d, "note": note}) for m, d in
                (("precision", details), ("recall", details), ("precision_video", video))]
    precision, recall = precision_recall(inputs.real, inputs.fake)
    video_value, balls = video_precision(inputs.real, inputs.fake, inputs.index, inputs.copy_window_s)
    video["balls"] = balls
    if video_value is None:
        video["note"] = (f"no real frame has {NEIGHBOURHOOD} neighbours outside +-{inputs.copy_window_s:g} s of its "
                         "own source")
    return [("precision", precision, dict(details)), ("recall", recall, dict(details)),
            ("precision_video", video_value, video)]


def summary(values) -> list[str]:
    words = {"precision": "precision", "recall": "recall", "precision_video": "precision (video)"}
    return [f"{words[m]} {num(values[m][0], '.3f')}" for m in words if m in values]


def video_cell(row: Row) -> str:
    return num(value_of(row, "precision_video"), ".3f")


METRIC = Metric(
    name="pr", records=("precision", "recall", "precision_video"), compute=compute, summary=summary,
    columns=(plain_column("precision (published)", "precision", ".3f"),
             plain_column("recall (published)", "recall", ".3f"), Column("precision (video)", video_cell)),
    help="precision and recall, k = 3, on the same Inception features (NVIDIA's pr50k3 uses VGG16),\n"
         "as published; and precision with each real frame's --copy-window neighbours left out of its radius")
