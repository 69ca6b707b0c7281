"""sha256 of files and folders, remembered across runs.

Datasets and source videos run to tens of GB, and several commands key caches or provenance on their hash, so a
hash is stored under the cache folder, keyed by the file's real path, size and modification time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CHUNK = 1 << 20


def cache_dir() -> Path:
    """`$LIKENESS_CACHE`, else `$XDG_CACHE_HOME/likeness`, else `~/.cache/likeness`."""
    env = os.environ.get("LIKENESS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "likeness"


def _cache_file() -> Path:
    return cache_dir() / "sha256.json"


def _load_cache() -> dict:
    try:
        return json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}


def _store_cache(key: str, digest: str) -> None:
    from training.atomic import atomic_write_bytes

    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        cache = _load_cache()
        cache[key] = digest
        atomic_write_bytes(_cache_file(), json.dumps(cache, indent=0).encode())
    except OSError:
        pass  # a read-only home only costs a re-hash next time


def _key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike, *, use_cache: bool = True) -> str:
    """Hex sha256 of a file's bytes."""
    path = Path(path)
    key = _key(path)
    if use_cache:
        cached = _load_cache().get(key)
        if cached:
            return cached
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    digest = h.hexdigest()
    if use_cache:
        _store_cache(key, digest)
    return digest


def folder_sha256(files: list[Path], root: Path) -> str:
    """One hash for a set of files: each file's relative name and content hash, in the given order."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(file_sha256(f).encode())
        h.update(b"\n")
    return h.hexdigest()
