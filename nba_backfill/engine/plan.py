"""Plan the units of a run (pure): the date universe, bootstrap days, and what is already done."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from data_processors.precompute.conventions import final_games, opening_night
from nba_backfill.constants import BOOTSTRAP_DAYS
from nba_backfill.dates import season_of
from nba_backfill.engine.ledger import LatestUnit, RETRY_STATES
from nba_backfill.processor import ProcessorSpec

#: Recorded states that a plain re-run skips: done, or a data gap that only a source change fixes.
SKIP_STATES = frozenset({"COMPLETE", "EXPECTED_EMPTY", "NO_SOURCE_DATA"})


@dataclass(frozen=True)
class Calendar:
    """Final-game dates and opening nights, read once from the schedule for the whole range."""

    game_dates: tuple[dt.date, ...]
    openings: Mapping[int, dt.date]

    @classmethod
    def from_schedule(cls, schedule: pd.DataFrame, seasons: Sequence[int]) -> Calendar:
        """`schedule` is normalized (nba_backfill.frames) and covers 1 Oct of the first season onward."""
        finals = final_games(schedule)
        dates = tuple(sorted({d.date() for d in finals["game_date"].dropna()}))
        return cls(dates, {s: opening_night(schedule, s) for s in seasons})

    def games_in(self, start: dt.date, end: dt.date) -> list[dt.date]:
        return [d for d in self.game_dates if start <= d <= end]

    def bootstrap_day(self, day: dt.date) -> int | None:
        opening = self.openings.get(season_of(day))
        if opening is None:
            return None
        k = (day - opening).days
        return k if 0 <= k < BOOTSTRAP_DAYS else None


@dataclass(frozen=True)
class PlannedUnit:
    """What the run will do with one (processor, date): run, skip as done, skip bootstrap."""

    processor: str
    day: dt.date
    action: str  # "run" | "done" | "bootstrap" | "not_selected"
    previous: str | None = None  # latest recorded state


def plan_processor(
    spec: ProcessorSpec,
    days: Sequence[dt.date],
    calendar: Calendar,
    latest: Mapping[tuple[str, dt.date], LatestUnit],
    *,
    force: bool = False,
    retry_failed: bool = False,
) -> list[PlannedUnit]:
    """Every game date of the request for one processor, oldest first, with its planned action."""
    out: list[PlannedUnit] = []
    for day in sorted(days):
        prev = latest.get((spec.name, day))
        state = prev.state if prev else None
        if spec.bootstrap_skip and calendar.bootstrap_day(day) is not None:
            action = "bootstrap"
        elif retry_failed:
            action = "run" if state in RETRY_STATES else "not_selected"
        elif force or state not in SKIP_STATES:
            action = "run"
        else:
            action = "done"
        out.append(PlannedUnit(spec.name, day, action, state))
    return out


def season_blocks(days: Sequence[dt.date], max_span_days: int | None = None) -> list[list[dt.date]]:
    """Days grouped by season, and within a season into blocks spanning fewer than `max_span_days`.

    The loader reads each block's inputs once; bounding the span bounds memory (a season of
    BettingPros rows is ~700k) at the cost of re-reading season-to-date history per block.
    """
    blocks: list[list[dt.date]] = []
    for day in sorted(days):
        last = blocks[-1] if blocks else None
        if (last is None or season_of(last[0]) != season_of(day)
                or (max_span_days is not None and (day - last[0]).days >= max_span_days)):
            blocks.append([day])
        else:
            last.append(day)
    return blocks


def phase3_gaps(final_dates: Sequence[dt.date], loaded: Mapping[str, set[dt.date]]) -> dict[dt.date, list[str]]:
    """Final-game dates lacking rows in a Phase 3 table: date -> names of the empty tables."""
    gaps: dict[dt.date, list[str]] = {}
    for day in final_dates:
        missing = [name for name, present in sorted(loaded.items()) if day not in present]
        if missing:
            gaps[day] = missing
    return gaps


def gaps_before(day: dt.date, gaps: Mapping[dt.date, list[str]]) -> list[dt.date]:
    """Gap dates inside the same-season lookback of D (strictly before D)."""
    season = season_of(day)
    return sorted(g for g in gaps if g < day and season_of(g) == season)
