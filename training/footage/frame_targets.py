"""Which decoded frames become dataset frames.

The rule, for an output rate R on one timeline that starts at `start`: output frame k is the first decoded frame
whose time t satisfies t >= start + k/R - h, where h is half a frame of the source that frame comes from. The
half frame makes a frame that sits a rounding error before its target (30000/1001 footage, phone timestamps in
milliseconds) count as on time. A decoded frame can satisfy several targets when the source is slower than R or
has a gap; it then fills each of them, as the rule says, and the repeats are counted so the summary can say so.
"""

from __future__ import annotations

from fractions import Fraction


class TargetClock:
    """Walks the targets start + k/R in order as decoded frame times arrive (which must not decrease much)."""

    def __init__(self, rate: Fraction, start: Fraction = Fraction(0), end: Fraction | None = None):
        if rate <= 0:
            raise ValueError("the output rate must be above zero")
        self.rate = Fraction(rate)
        self.start = Fraction(start)
        self.end = None if end is None else Fraction(end)
        self.next_index = 0
        self.repeats = 0

    def target(self, k: int) -> Fraction:
        return self.start + k / self.rate

    @property
    def done(self) -> bool:
        """True once the next target lies at or beyond `end` (exclusive): no later frame can be used."""
        return self.end is not None and self.target(self.next_index) >= self.end

    def take(self, time: Fraction, half_frame: Fraction) -> int:
        """How many targets the frame at `time` fills (0 when it is early for the next one)."""
        count = 0
        while not self.done and self.target(self.next_index) - half_frame <= time:
            self.next_index += 1
            count += 1
        if count > 1:
            self.repeats += count - 1
        return count

    def earliest_useful(self, half_frame: Fraction) -> Fraction:
        """The earliest frame time that can still fill a target: decoding may skip everything before it."""
        return self.target(self.next_index) - half_frame
