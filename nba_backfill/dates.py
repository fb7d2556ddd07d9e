"""Pure date helpers: strict ISO parsing, inclusive ranges, NBA seasons."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from nba_backfill.errors import UsageError

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SEASON_LABEL = re.compile(r"^(\d{4})-(\d{2})$")


def parse_iso_date(text: str) -> dt.date:
    """Parse exactly YYYY-MM-DD, raising UsageError with the offending text otherwise."""
    text = text.strip()
    if not _ISO.match(text):
        raise UsageError(f"invalid date {text!r}: expected YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"invalid date {text!r}: {exc}") from exc


def parse_date_list(text: str) -> list[dt.date]:
    """Parse a comma-separated list of ISO dates (sorted, de-duplicated)."""
    parts = [p for p in (s.strip() for s in text.split(",")) if p]
    if not parts:
        raise UsageError("--dates needs at least one YYYY-MM-DD date")
    return sorted({parse_iso_date(p) for p in parts})


def date_range(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from start to end, both included."""
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def season_of(day: dt.date) -> int:
    """Season year of a date: the October year (2022-06-16 belongs to season 2021)."""
    return day.year if day.month >= 10 else day.year - 1


def season_label(season: int) -> str:
    """2021 -> '2021-22'."""
    return f"{season}-{(season + 1) % 100:02d}"


def parse_season_label(text: str) -> int:
    """'2021-22' -> 2021; raises UsageError for anything else."""
    match = _SEASON_LABEL.match(text.strip())
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise UsageError(f"invalid season {text!r}: expected a label like 2021-22")
    return int(match.group(1))


def season_start(season: int) -> dt.date:
    """1 October of the season: where loaders start the schedule so opening night is found."""
    return dt.date(season, 10, 1)
