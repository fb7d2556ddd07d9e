"""Schedule-based completeness (spec §1.8) of integer-numbered entities, counted on numpy arrays.

`conventions.completeness_windows` is the rule every processor shares; the daily cache needs it
for a few hundred entities on every date, where that function's frames cost more than the
counting. `window_counts` gives the same expected/actual counts from arrays, and hands the
inputs it does not cover (NULL teams or dates, a repeated team date) to the shared function.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from data_processors.precompute.keyed_history import lookup, take_filled

#: Per window name: (expected, actual) per entity, int64.
Counts = dict[str, tuple[np.ndarray, np.ndarray]]


def window_counts(
    entity_teams: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray],
    team_dates: pd.DataFrame,
    day: dt.date,
    windows: Mapping[str, cv.Window],
) -> Counts:
    """Expected and actual games of entities 0..n-1 in each window, as `conventions.completeness_windows`.

    `entity_teams[i]` is entity i's team (None: no team); `rows` holds (entity id, game_date)
    of the entities' rows (an id of -1 matches nothing); `team_dates` is `team_final_dates` output.
    """
    ids, dates = rows
    counts = _fast_counts(entity_teams, ids, dates, team_dates, day, windows)
    if counts is not None:
        return counts
    entities = pd.DataFrame({"entity": np.arange(len(entity_teams)), "team": pd.Series(entity_teams, dtype=object)})
    dated = pd.DataFrame({"entity": ids, "game_date": dates})
    comps = cv.completeness_windows(entities, dated, team_dates, day=day, windows=windows)
    return {name: (c["expected"].to_numpy(), c["actual"].to_numpy()) for name, c in comps.items()}


def _fast_counts(
    entity_teams: np.ndarray,
    ids: np.ndarray,
    dates: np.ndarray,
    team_dates: pd.DataFrame,
    day: dt.date,
    windows: Mapping[str, cv.Window],
) -> Counts | None:
    """The counts from a (team x date) table of team_dates rows, or None for the shared path."""
    teams = team_dates["team"].to_numpy(dtype=object)
    tdates = team_dates["game_date"].to_numpy()
    if tdates.dtype.kind != "M" or dates.dtype.kind != "M" or pd.isna(teams).any() or np.isnat(tdates).any() \
            or np.isnat(dates).any():  # fmt: skip
        return None
    team_code, names = pd.factorize(teams)
    days = np.unique(tdates)
    width = len(days)
    slot = team_code * width + np.searchsorted(days, tdates)  # one cell per (team, date)
    table = np.full(len(names) * width, -1, dtype=np.intp)
    table[slot] = np.arange(len(slot))
    if len(slot) and np.bincount(slot).max() > 1:
        return None  # a repeated (team, date) pair counts twice there
    rank = cv.rank_in_order(team_code)  # position among the team's dates, newest first
    n = len(entity_teams)
    ent_team = lookup(names, entity_teams)  # -1: no team, or no final game yet
    # the team_dates row of each entity row's date, when it is one of its team's dates
    team = take_filled(ent_team, ids, -1)
    at = np.minimum(np.searchsorted(days, dates), max(width - 1, 0))
    found = (team >= 0) & (days[at] == dates) if width else np.zeros(len(ids), dtype=bool)
    row = table[team[found] * width + at[found]]
    entity = ids[found][row >= 0]
    row = row[row >= 0]
    _, first = np.unique(entity * max(len(slot), 1) + row, return_index=True)  # one per (entity, date)
    entity, row = entity[first], row[first]
    out: Counts = {}
    for name, (kind, size) in windows.items():
        if kind == "games":
            inside = rank < size
        elif kind == "days":
            inside = tdates >= np.datetime64(pd.Timestamp(day - dt.timedelta(days=int(size))))
        else:
            raise ValueError(f"unknown completeness window kind {kind!r}")
        expected = take_filled(np.bincount(team_code[inside], minlength=len(names)), ent_team, 0)
        actual = np.bincount(entity[inside[row]], minlength=n)
        out[name] = (expected.astype("int64"), actual.astype("int64"))
    return out
