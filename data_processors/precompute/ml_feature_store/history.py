"""Phase 3 history inputs of ml_feature_store (spec §C.3–§C.5): per context player, the
aggregates of H(P) and L and schedule-based completeness; per team, its season record.

Works on column arrays and integer codes of the wanted keys: the processor calls this once
per date on season-to-date frames, where sorting or grouping the whole season's text by
pandas would cost more than everything else together.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from data_processors.precompute.keyed_history import flags, floats, keyed_history, lookup, objects, pick, pick_rows
from nba_backfill.constants import ML_MIN_RECENT_GAMES, PLAYER_COMPLETENESS_WINDOW_GAMES

L_WINDOW = 10  # L = the newest <= 10 active games (§C.3)


def _first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """Per code (0..n-1), the index of its first row (-1 without rows); rows grouped by code."""
    out = np.full(n, -1, dtype="int64")
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.empty(0, dtype="int64")
    out[codes[first]] = first
    return out


def _total(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per code (0..n-1), the sum of its non-NULL values (0.0 without any).

    Only the rows that count are summed (in row order): the same sums as adding 0.0 for the
    others, which is exact, over far fewer rows.
    """
    ok = ~np.isnan(values)
    return np.bincount(codes[ok], weights=np.nan_to_num(values[ok]), minlength=n)


def _mean(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per code, the mean of its non-NULL values; NaN without any."""
    ok = ~np.isnan(values)
    count = np.bincount(codes[ok], minlength=n)
    total = np.bincount(codes[ok], weights=np.nan_to_num(values[ok]), minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, total / count, np.nan)


def player_history(
    cols: Mapping[str, Any], pgs: pd.DataFrame, day: dt.date, schedule: pd.DataFrame, opening: dt.date | None = None
) -> dict[str, Any]:
    """Per context player: id/team fallbacks from H(P), the Phase 3 aggregates over active games
    and L, and schedule-based completeness.

    H(P) is `keyed_history` (grouped by player, newest first). Everything is one numpy pass
    over integer player codes; a mean is the sum of the non-NULL values over their count (NaN
    when there are none). A player without rows in H(P) has NULL aggregates.
    """
    ctx_players = cols["player_lookup"]
    n = len(ctx_players)
    pos, codes = keyed_history(pgs, "player_lookup", ctx_players, day, schedule, opening)
    h_team = pick(objects(pgs["team_abbr"]), pick_rows(pos, _first_rows(codes, n)), np.nan)
    ctx_upid = cols["universal_player_id"]
    h_upid = np.full(n, np.nan, dtype=object)
    need = pd.isna(ctx_upid)
    if need.any():  # the newest non-NULL universal_player_id in H(P), for players without one
        rows = np.flatnonzero(need[codes])
        upid = objects(pgs["universal_player_id"])[pos[rows]]
        has_id = ~pd.isna(upid)
        h_upid = pick(upid[has_id], _first_rows(codes[rows][has_id], n), np.nan)

    minutes = floats(pgs["minutes_played"])
    active = flags(pgs["is_active"])[pos] & (minutes[pos] > 0)
    act_rows, ac = pos[active], codes[active]
    a_starts = np.flatnonzero(np.r_[True, ac[1:] != ac[:-1]]) if len(ac) else np.empty(0, dtype="int64")
    rank = np.arange(len(ac)) - np.repeat(a_starts, np.diff(np.r_[a_starts, len(ac)]))
    season = {"points": floats(pgs["points"])[act_rows], "minutes_played": minutes[act_rows],
              "ft_makes": floats(pgs["ft_makes"])[act_rows]}
    in_l = rank < L_WINDOW  # L: the few newest rows per player, kept apart from the season's rows
    lc, lrank = ac[in_l], rank[in_l]
    l_values = {col: v[in_l] for col, v in season.items()}
    in_5 = lrank < ML_MIN_RECENT_GAMES
    l_points = l_values["points"]
    stats = {
        "p3_last5": np.where(np.bincount(lc[in_5], minlength=n) >= ML_MIN_RECENT_GAMES,
                             _mean(lc[in_5], l_points[in_5], n), np.nan),
        "p3_last10": _mean(lc, l_points, n),
        "p3_season": _mean(ac, season["points"], n),
        "p3_minutes_season": _mean(ac, season["minutes_played"], n),
        "l_games": np.bincount(lc, minlength=n).astype("float64"),
        "l_minutes_mean": _mean(lc, l_values["minutes_played"], n),
        "l_points_sum": _total(lc, l_points, n),
        "l_ft_sum": _total(lc, l_values["ft_makes"], n),
        "trend_a": _mean(lc[lrank < 3], l_points[lrank < 3], n),
        "trend_b": _mean(lc[in_5 & (lrank >= 3)], l_points[in_5 & (lrank >= 3)], n),
    }
    no_rows = np.bincount(codes, minlength=n) == 0
    out: dict[str, Any] = {name: np.where(no_rows, np.nan, values) for name, values in stats.items()}
    upid_out = np.where(need, h_upid, ctx_upid)
    out["universal_player_id"] = np.where(pd.isna(upid_out), None, upid_out)
    team = np.where(pd.isna(h_team), cols["team_abbr"], h_team)
    comp = cv.completeness(  # entities as integer codes: same counts, cheaper than their text
        pd.DataFrame({"entity": np.arange(n), "team": pd.Series(team, dtype=object)}),
        pd.DataFrame({"entity": codes, "game_date": pgs["game_date"].array.take(pos)}),
        cv.team_final_dates(schedule, day),
        day=day,
        last_games=PLAYER_COMPLETENESS_WINDOW_GAMES,
    )
    out.update({c: comp[c].to_numpy() for c in comp.columns})
    return out


def team_record(
    team_off: pd.DataFrame, ctx_teams: np.ndarray, day: dt.date, schedule: pd.DataFrame,
    opening: dt.date | None = None,
) -> dict[str, np.ndarray]:
    """Per context row, its team's in-season de-duplicated games before D and wins (NULL
    win_flag = loss); NULL for a team without games."""
    teams = pd.unique(ctx_teams[~pd.isna(ctx_teams)])
    pos, codes = keyed_history(team_off, "team_abbr", teams, day, schedule, opening)
    games = np.bincount(codes, minlength=len(teams)).astype("float64")
    wins = np.bincount(codes, weights=flags(team_off["win_flag"])[pos].astype("float64"), minlength=len(teams))
    at = lookup(teams, ctx_teams)
    none = games == 0
    return {"team_games": pick(np.where(none, np.nan, games), at), "team_wins": pick(np.where(none, np.nan, wins), at)}
