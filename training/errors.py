"""Errors a user can act on.

Commands raise these instead of printing and exiting, so that the dispatcher prints one line and picks the
exit code: 2 when the command line itself is wrong, 1 when the data it points at is.
"""


class LikenessError(Exception):
    """A problem the user can fix; the message says what was wrong and what to do."""

    exit_code = 1


class UsageError(LikenessError):
    """The command line asks for something impossible (bad flag value, missing file, output in the way)."""

    exit_code = 2


class DataError(LikenessError):
    """The inputs exist but their content is unusable (not a video, undecodable frame, mixed sizes...)."""

    exit_code = 1


def name_some(items: list, few: int = 5) -> str:
    """The first `few` items and how many more: an error about 200,000 unknown keys stays one readable line."""
    shown = ", ".join(str(item) for item in items[:few])
    rest = len(items) - few
    return f"{shown} and {rest:,} more ({len(items):,} in all)" if rest > 0 else shown
