"""Per context player: universal_player_id fallback and last-10-games completeness (spec §0.2, §1.8).

The player's history H(P) is read from the season-to-date player_game_summary frame on numpy
arrays: one hash look-up keeps the rows of D's players, the leak-free same-season window and the
per-(player, date) de-duplication follow the shared `history` rules, and the newest row per player
gives the completeness team and the newest non-NULL universal_player_id.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute.conventions import (
    completeness,
    entity_first,
    opening_night,
    team_final_dates,
)
from data_processors.precompute.keyed_history import keyed_history
from nba_backfill.constants import PLAYER_COMPLETENESS_WINDOW_GAMES
from nba_backfill.dates import season_of


def history_facts(
    ctx: Mapping[str, Any], pgs: pd.DataFrame, schedule: pd.DataFrame, day: dt.date, opening: dt.date | None = None
) -> dict[str, np.ndarray]:
    """universal_player_id (context value, else the newest non-NULL one in H(P)) and the
    completeness columns (expected/actual/missing games, pct) per context row.

    `ctx` holds the context rows' player_lookup, team_abbr and universal_player_id (object arrays,
    one row per player, no two alike); `opening` is the season's opening night (read from the
    schedule when not given)."""
    players = ctx["player_lookup"]
    n = len(players)
    if opening is None:
        opening = opening_night(schedule, season_of(day))
    rows, codes = keyed_history(pgs, "player_lookup", players, day, schedule, opening)
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(rows) else np.zeros(0, dtype="intp")
    newest_team = np.full(n, None, dtype=object)
    newest_team[codes[first]] = pgs["team_abbr"].to_numpy(dtype=object)[rows[first]]
    team = _fill(newest_team, ctx["team_abbr"])
    dates = pgs["game_date"].to_numpy()[rows]
    if pd.isna(players).any():  # a NULL player counts no games, as its name would: keep the names
        names = pgs["player_lookup"].to_numpy(dtype=object)[rows]
        entities, dated = pd.Series(players, dtype=object), pd.Series(names, dtype=object)
    else:  # distinct names: their positions (int64 on both sides) are the same entities, without hashing text again
        entities, dated = np.arange(n, dtype="int64"), codes.astype("int64")
    comp = completeness(
        pd.DataFrame({"entity": entities, "team": pd.Series(team, dtype=object, copy=False)}, copy=False),
        pd.DataFrame({"entity": dated, "game_date": dates}, copy=False),
        team_final_dates(schedule, day),
        day=day,
        last_games=PLAYER_COMPLETENESS_WINDOW_GAMES,
    )
    return {
        "universal_player_id": _fill(ctx["universal_player_id"], _newest_id(pgs, rows, codes, first, n)),
        "expected_games_count": comp["expected"].to_numpy(),
        "actual_games_count": comp["actual"].to_numpy(),
        "missing_games_count": comp["missing"].to_numpy(),
        "completeness_percentage": comp["pct"].to_numpy("float64"),
    }


def _newest_id(pgs: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, first: np.ndarray, n: int) -> np.ndarray:
    """Per player, the universal_player_id of its newest history row with one (None if none):
    the newest row's own value, unless it is NULL for some player (then all rows are read)."""
    values = pgs["universal_player_id"].to_numpy(dtype=object)
    newest = values[rows[first]]
    if not pd.isna(newest).any():
        out = np.full(n, None, dtype=object)
        out[codes[first]] = newest
        return out
    ids = values[rows]
    return entity_first(codes, pd.notna(ids), ids, n)


def _fill(values: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """values where non-NULL, else fallback (object array)."""
    values = np.asarray(values, dtype=object)
    return np.where(pd.isna(values), np.asarray(fallback, dtype=object), values)
