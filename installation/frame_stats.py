"""Pacing figures of a running renderer: frames presented per second, frame times and the share of each frame
period they use, late (dropped) frames, images per second, memory.

Show time follows the wall clock, so a frame that takes too long is not slowed down: the next frame is simply
drawn for a later time, and the frames that were never drawn are counted as dropped. `fps` is the rate frames
really went out at (a paced loop waits for early frames, so it reads the show's rate when all is well); `busy` is
how much of a frame period drawing takes, the headroom left for more windows or a larger size.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections import deque

import numpy as np


class FrameStats:
    def __init__(self, rate: float, window: int = 240, *, count_dropped: bool = True):
        self.rate = rate
        self.count_dropped = count_dropped  # False when the clock steps a frame per frame drawn: none can be late
        self.times: deque[float] = deque(maxlen=window)
        self.stamps: deque[float] = deque(maxlen=window)  # when each frame was added, for the presented rate
        self.frames = 0
        self.dropped = 0
        self.images = 0
        self.seconds = 0.0
        self._last_slot: int | None = None

    def add(self, frame_seconds: float, images: int, show_time: float, at: float | None = None) -> None:
        """One drawn frame, drawn for `show_time`: the frame slots of the show's rate between it and the frame
        drawn before were never drawn, and count as dropped (lateness adds up: frames taking 1.8 periods each draw 5
        slots in 9 and drop 4, where counting per frame would find none late by two periods)."""
        self.times.append(frame_seconds)
        self.stamps.append(time.perf_counter() if at is None else at)
        self.frames += 1
        self.images += images
        self.seconds += frame_seconds
        slot = math.floor(show_time * self.rate + 1e-6)
        if self.count_dropped and self._last_slot is not None and slot > self._last_slot + 1:
            self.dropped += slot - self._last_slot - 1
        self._last_slot = slot  # a clock that stood still (pause) or went back (rewind) drops nothing

    def summary(self) -> dict[str, float]:
        times = np.array(self.times) if self.times else np.zeros(1)
        return {"fps": self.presented_fps(), "busy": float(times.mean()) * self.rate,
                "p50_ms": float(np.percentile(times, 50) * 1e3),
                "p99_ms": float(np.percentile(times, 99) * 1e3), "images_per_s": self.images / max(self.seconds, 1e-9),
                "dropped": self.dropped, "frames": self.frames, **memory()}

    def presented_fps(self) -> float:
        """Frames per second over the recent frames, from when they were added; one frame alone: its drawing rate."""
        if len(self.stamps) < 2:
            return 1 / max(self.times[-1], 1e-9) if self.times else 0.0
        return (len(self.stamps) - 1) / max(self.stamps[-1] - self.stamps[0], 1e-9)

    def lines(self) -> list[str]:
        s = self.summary()
        gpu = f"  GPU {s['gpu_mb']:.0f} MB" if "gpu_mb" in s else ""
        return [f"{s['fps']:5.1f} fps  p50 {s['p50_ms']:.1f} ms  p99 {s['p99_ms']:.1f} ms  busy {s['busy']:.0%}",
                f"{s['images_per_s']:.0f} images/s  dropped {s['dropped']}  host {s['host_mb']:.0f} MB{gpu}"]


def memory() -> dict[str, float]:
    """Resident host memory now (not the peak) and, on CUDA, the memory torch holds."""
    out = {"host_mb": _rss_mb()}
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        out["gpu_mb"] = torch.cuda.memory_allocated() / 2 ** 20
        out["gpu_reserved_mb"] = torch.cuda.memory_reserved() / 2 ** 20
    return out


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2 ** 20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
