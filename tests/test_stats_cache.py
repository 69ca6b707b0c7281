"""The real-set cache: keyed by dataset content, image count and Inception weights; read back instead of recomputed."""

import dataclasses

import numpy as np
import PIL.Image

import tiny_networks
from evaluation.inception import InceptionFeatures
from evaluation.stats import (cached_real_stats, dataset_features, dataset_stats, real_stats_cache_path,
                              save_stats)
from training.dataset import ImageDataset
from training.hashing import cache_dir


def make_folder(folder, n, seed):
    folder.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(n):
        PIL.Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def test_cache_is_keyed_and_read_back(tmp_path):
    extractor = InceptionFeatures(tiny_networks.save(tiny_networks.TinyInception(), tmp_path / "tiny.pt"),
                                  device="cpu")
    dataset = ImageDataset(make_folder(tmp_path / "frames", 6, seed=0))

    stats, features = cached_real_stats(dataset, extractor, batch_size=4)
    path = real_stats_cache_path(dataset.sha256(), 6, extractor.sha256)
    assert path.is_file() and path.is_relative_to(cache_dir())
    assert features.shape == (6, 2048) and stats.n == 6
    assert stats.dataset_sha256 == dataset.sha256() and stats.inception_sha256 == extractor.sha256
    direct = dataset_stats(dataset, extractor)
    np.testing.assert_allclose(stats.mu, direct.mu, rtol=1e-12)
    np.testing.assert_allclose(stats.sigma, direct.sigma, rtol=1e-9, atol=1e-14)
    np.testing.assert_array_equal(features, dataset_features(dataset, extractor, keep_features=True).features())

    # proof that the second call reads the file: give the entry recognisable content
    marked = dataclasses.replace(stats, mu=stats.mu + 1000.0)
    save_stats(marked, path, force=True, features=features)
    again, _ = cached_real_stats(dataset, extractor)
    np.testing.assert_array_equal(again.mu, marked.mu)

    # fewer images is another entry, computed afresh from the first four
    four, four_features = cached_real_stats(dataset, extractor, max_items=4)
    assert four.n == 4 and real_stats_cache_path(dataset.sha256(), 4, extractor.sha256).is_file()
    np.testing.assert_array_equal(four_features, features[:4])

    # a damaged entry is recomputed, not trusted
    path.write_bytes(b"damaged")
    repaired, _ = cached_real_stats(dataset, extractor)
    np.testing.assert_allclose(repaired.mu, direct.mu, rtol=1e-12)
