"""Per-image Inception features of likeness against the ones `fid_reference.py --save-features` wrote.

    PYTHONPATH=. python benchmarks/compare_features.py FOLDER_WITH_a_AND_b REFERENCE.npz
"""

from __future__ import annotations

import sys

import numpy as np

from evaluation.inception import InceptionFeatures
from evaluation.stats import dataset_features
from training.dataset import ImageDataset


def main() -> None:
    root, reference = sys.argv[1], np.load(sys.argv[2])
    extractor = InceptionFeatures(device="cpu")
    for side in ("a", "b"):
        ours = dataset_features(ImageDataset(f"{root}/{side}"), extractor, keep_features=True).features()
        ours, ref = ours.astype(np.float64), reference[side]
        diff = np.abs(ours - ref)
        relative = np.linalg.norm(ours - ref, axis=1) / np.linalg.norm(ref, axis=1)
        print(f"{side}: {len(ours)} images, max |ours - ref| = {diff.max():.3g}, mean = {diff.mean():.3g}, "
              f"worst image's relative L2 difference = {relative.max():.3g}, features in [{ref.min():.3g}, "
              f"{ref.max():.3g}]")


if __name__ == "__main__":
    main()
