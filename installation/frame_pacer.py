"""The live loop's clock: which frame of the show's rate to draw next, and when.

A live show draws the frames an export of the same show would write (frame k at show time k / rate), so what a
room saw and what the film holds agree frame for frame. The pacer hands out those frame numbers as the wall clock
reaches them: early, it waits (a display whose vsync does nothing, Xvfb, `--no-vsync`, would otherwise spin the GPU
flat out for hours drawing frames nobody sees); late, it skips to the frame the clock has reached, so a slow frame
is dropped, never turned into slow motion. A frame may start up to half a period before its time, so a vsync'd
display at the show's rate paces the loop itself and the pacer never sleeps against it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from fractions import Fraction


class FramePacer:
    def __init__(self, rate: Fraction, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = Fraction(rate)
        self.clock = clock
        self.sleep = sleep
        self.restart()

    def restart(self) -> None:
        """Frame 0 is now: the time spent loading models before the first frame drops nothing."""
        self.start = self.clock()
        self.last: int | None = None  # the frame number handed out before

    def elapsed(self) -> float:
        return self.clock() - self.start

    def next_frame(self) -> int:
        """The next frame to draw, waited for when it is early; frames the clock has passed are skipped."""
        after = 0 if self.last is None else self.last + 1
        rate = float(self.rate)
        early = (after - 0.5) / rate - self.elapsed()
        if early > 0:
            self.sleep(early)
        self.last = max(after, math.floor(self.elapsed() * rate + 0.5))
        return self.last

    def time_of(self, frame: int) -> float:
        """Show time of frame `frame`, exactly as an export computes it."""
        return float(Fraction(frame) / self.rate)
