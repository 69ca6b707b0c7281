"""Frame rates and times as exact fractions, parsed from what an artist types and printed back for humans.

Sampling compares frame times with targets k/R; floats would put a frame on the wrong side of a target for
rates such as 30000/1001, so everything stays a `Fraction` until it is shown.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
_RATIO = re.compile(r"^\d+/\d+$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")


def parse_rate(text: str) -> Fraction:
    """'10', '0.5', '29.97' or '30000/1001' to a positive Fraction; ValueError otherwise."""
    text = text.strip()
    if not (_DECIMAL.match(text) or _RATIO.match(text)):
        raise ValueError(f"{text!r} is not a number or a ratio such as 30000/1001")
    if _RATIO.match(text) and int(text.split("/")[1]) == 0:
        raise ValueError(f"{text!r} divides by zero")
    rate = Fraction(text)
    if rate <= 0:
        raise ValueError(f"{text!r} is not above zero")
    return rate


def parse_time(text: str) -> Fraction:
    """Seconds ('90', '4.5') or a clock ('1:30', '01:02:03.250') to a Fraction of seconds; ValueError otherwise."""
    text = text.strip()
    if _DECIMAL.match(text):
        return Fraction(text)
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"{text!r} is neither seconds (90, 4.5) nor a clock time ([HH:]MM:SS[.fff])")
    hours, minutes, seconds = match.groups()
    if Fraction(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        raise ValueError(f"{text!r} has minutes or seconds of 60 or more")
    return int(hours or 0) * 3600 + int(minutes) * 60 + Fraction(seconds)


def format_rate(rate: Fraction | None) -> str | None:
    """A rate as 'num/den' (exact, for JSON) or None."""
    if rate is None:
        return None
    return f"{rate.numerator}/{rate.denominator}"


def describe_rate(rate: Fraction) -> str:
    """A rate for people: '10', '0.5', '29.97 (30000/1001)'."""
    if rate.denominator == 1:
        return str(rate.numerator)
    decimal = f"{float(rate):.3f}".rstrip("0").rstrip(".")
    if Fraction(decimal) == rate:
        return decimal
    return f"{decimal} ({rate.numerator}/{rate.denominator})"


def format_clock(seconds: Fraction | float) -> str:
    """Seconds to 'MM:SS.mmm', or 'H:MM:SS.mmm' from one hour on, rounded to the millisecond."""
    millis = round(Fraction(seconds) * 1000)
    sign = "-" if millis < 0 else ""
    millis = abs(millis)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}.{ms:03d}"
    return f"{sign}{minutes:02d}:{secs:02d}.{ms:03d}"


def seconds_ms(seconds: Fraction) -> float:
    """Seconds rounded to the millisecond, as JSON stores them."""
    return round(float(seconds), 3)


def expected_count(start: Fraction, end: Fraction, rate: Fraction) -> int:
    """How many targets start + k/rate lie in [start, end)."""
    if end <= start:
        return 0
    return math.ceil((end - start) * rate)
