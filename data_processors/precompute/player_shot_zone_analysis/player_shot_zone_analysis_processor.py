"""Phase 4 `player_shot_zone_analysis`: where each player shoots from, over his last 10 active games.

Spec: phase4-zone-analysis.md Part 3. One row per player with at least 10 active in-season
games before D: zone rates, zone FG%, attempts per game, assisted share, a 20-game paint
view and the primary scoring zone.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from nba_backfill.constants import (
    PLAYER_COMPLETENESS_WINDOW_GAMES,
    SHOT_ZONE_LONG_MIN_GAMES,
    SHOT_ZONE_LONG_WINDOW_GAMES,
    SHOT_ZONE_MIN_GAMES,
    SHOT_ZONE_WINDOW_GAMES,
)
from nba_backfill.dates import season_of
from nba_backfill.frames import read_declared, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec
from nba_backfill.tables import table
from nba_backfill.values import round_half_away_array

NAME = "player_shot_zone_analysis"
OUTPUT = f"nba_precompute.{NAME}"
PGS = "nba_analytics.player_game_summary"
SCHEDULE = "nba_raw.nbac_schedule"
KEY = "player_lookup"

PGS_COLUMNS = (
    "player_lookup", "universal_player_id", "game_id", "game_date", "season_year", "team_abbr",
    "is_active", "minutes_played", "paint_attempts", "paint_makes", "mid_range_attempts",
    "mid_range_makes", "three_pt_attempts", "three_pt_makes", "fg_makes", "assisted_fg_makes",
    "unassisted_fg_makes", "processed_at",
)  # fmt: skip
SCHEDULE_COLUMNS = (
    "game_date", "season_year", "home_team_tricode", "away_team_tricode",
    "game_status", "is_regular_season", "is_playoffs",
)  # fmt: skip
COUNT_COLUMNS = [
    "paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes",
    "three_pt_attempts", "three_pt_makes", "fg_makes", "assisted_fg_makes", "unassisted_fg_makes",
]  # fmt: skip
#: Positions in COUNT_COLUMNS of the zone attempts (a NULL one marks a game without zone data).
ZONE_INDEX = [COUNT_COLUMNS.index(c) for c in ("paint_attempts", "mid_range_attempts", "three_pt_attempts")]

HASH_FIELDS = (
    "player_lookup", "universal_player_id", "analysis_date",
    "paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10",
    "total_shots_last_10", "games_in_sample_10", "sample_quality_10",
    "paint_pct_last_10", "mid_range_pct_last_10", "three_pt_pct_last_10",
    "paint_attempts_per_game", "mid_range_attempts_per_game", "three_pt_attempts_per_game",
    "paint_rate_last_20", "paint_pct_last_20", "games_in_sample_20", "sample_quality_20",
    "assisted_rate_last_10", "unassisted_rate_last_10", "player_position",
    "primary_scoring_zone", "data_quality_tier", "calculation_notes",
)  # fmt: skip


def sample_quality(n: int, window: int) -> str:
    """'excellent' for a full window, then 'good' (>= 70 %), 'limited' (>= 50 %), 'insufficient'."""
    if n >= window:
        return "excellent"
    if n >= math.floor(0.7 * window):
        return "good"
    if n >= math.floor(0.5 * window):
        return "limited"
    return "insufficient"


def quality_tier(n10: int) -> str:
    """'high' for 10 games in the short window, 'medium' for 7..9, else 'low'."""
    if n10 >= 10:
        return "high"
    return "medium" if n10 >= 7 else "low"


_QUALITY_LABELS = np.array(["insufficient", "limited", "good", "excellent"], dtype=object)
_TIER_LABELS = np.array(["low", "medium", "high"], dtype=object)


def sample_qualities(n: np.ndarray, window: int) -> np.ndarray:
    """`sample_quality` of each count (object array): the thresholds are ordered, so the label
    is the number of thresholds reached."""
    level = (n >= math.floor(0.5 * window)).astype("int64") + (n >= math.floor(0.7 * window)) + (n >= window)
    return _QUALITY_LABELS[level]


def quality_tiers(n10: np.ndarray) -> np.ndarray:
    """`quality_tier` of each count (object array)."""
    return _TIER_LABELS[(n10 >= 7).astype("int64") + (n10 >= 10)]


def primary_zones(paint: np.ndarray, mid: np.ndarray, three: np.ndarray) -> list[str | None]:
    """Primary scoring zone per row from the stored 2-decimal rates (NULL as 0); first matching rule wins."""
    p, m, t = (np.nan_to_num(np.asarray(v, dtype="float64"), nan=0.0) for v in (paint, mid, three))
    zone = np.select([(p == 0) & (m == 0) & (t == 0), p >= 40, t >= 40, m >= 35],
                     [None, "paint", "perimeter", "mid_range"], default="balanced")  # fmt: skip
    return zone.tolist()


def primary_zone(paint: float | None, mid: float | None, three: float | None) -> str | None:
    """`primary_zones` for one player."""
    return primary_zones(*(np.array([np.nan if v is None else v], dtype="float64") for v in (paint, mid, three)))[0]


def _div(num: np.ndarray, den: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """num / den * scale, NULL (NaN) where den is 0 (never NaN from 0/0 or Inf)."""
    safe = np.where(den != 0, den, np.nan)
    return (num / safe) * scale if scale != 1.0 else num / safe


def metrics(l10: Mapping[str, np.ndarray], l20: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """The unrounded metric columns, one entry per player, from the L10 and L20 sums (`window_sums`)."""
    n10, n20 = l10["games"], l20["games"]
    total = l10["paint_attempts"] + l10["mid_range_attempts"] + l10["three_pt_attempts"]
    total20 = l20["paint_attempts"] + l20["mid_range_attempts"] + l20["three_pt_attempts"]
    long_ok = n20 >= SHOT_ZONE_LONG_MIN_GAMES
    out: dict[str, Any] = {
        "paint_rate_last_10": _div(l10["paint_attempts"], total, 100.0),
        "mid_range_rate_last_10": _div(l10["mid_range_attempts"], total, 100.0),
        "three_pt_rate_last_10": _div(l10["three_pt_attempts"], total, 100.0),
        "total_shots_last_10": total.astype("int64"),
        "games_in_sample_10": n10,
        "sample_quality_10": sample_qualities(n10, SHOT_ZONE_WINDOW_GAMES),
        "paint_pct_last_10": _div(l10["paint_makes"], l10["paint_attempts"]),
        "mid_range_pct_last_10": _div(l10["mid_range_makes"], l10["mid_range_attempts"]),
        "three_pt_pct_last_10": _div(l10["three_pt_makes"], l10["three_pt_attempts"]),
        "paint_attempts_per_game": l10["paint_attempts"] / n10,
        "mid_range_attempts_per_game": l10["mid_range_attempts"] / n10,
        "three_pt_attempts_per_game": l10["three_pt_attempts"] / n10,
        "paint_rate_last_20": np.where(long_ok, _div(l20["paint_attempts"], total20, 100.0), np.nan),
        "paint_pct_last_20": np.where(long_ok, _div(l20["paint_makes"], l20["paint_attempts"]), np.nan),
        "games_in_sample_20": n20,
        "sample_quality_20": sample_qualities(n20, SHOT_ZONE_LONG_WINDOW_GAMES),
        "assisted_rate_last_10": _div(l10["assisted_fg_makes"], l10["fg_makes"], 100.0),
        "unassisted_rate_last_10": _div(l10["unassisted_fg_makes"], l10["fg_makes"], 100.0),
        "player_position": None,
    }
    stored = [round_half_away_array(out[c], 2) for c in ("paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10")]
    out["primary_scoring_zone"] = primary_zones(*stored)
    out["data_quality_tier"] = quality_tiers(n10)
    k = l10["missing_zone"].astype("int64")
    notes = [f"{m} of {n} games missing zone data" if m > 0 else None for m, n in zip(k.tolist(), n10.tolist())]
    out["calculation_notes"] = pd.Series(notes, dtype="object")
    out["_missing_zone"] = k
    out["source_player_game_rows_found"] = n20
    out["source_player_game_hash"] = None
    return out


def window_sums(values: np.ndarray, codes: np.ndarray, mask: np.ndarray, n: int) -> dict[str, Any]:
    """Per-player sums of COUNT_COLUMNS (`values`, NULL as 0), game and missing-zone counts over
    the masked rows; `codes` index the n qualified players (-1 = other)."""
    missing = np.isnan(values[:, ZONE_INDEX]).any(axis=1)[:, None]
    sums = _grouped_sums(codes[mask], np.column_stack([values, missing])[mask], n)
    out: dict[str, Any] = {c: sums[:, j] for j, c in enumerate(COUNT_COLUMNS)}
    out["missing_zone"] = sums[:, -1]
    out["games"] = np.bincount(codes[mask & (codes >= 0)], minlength=n)
    return out


def _grouped_sums(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """`conventions.entity_sums` over every row, as one np.add.reduceat when the rows come grouped
    by code in ascending order (as in `history`) instead of a bincount per column. The columns
    are INT64 counts, whose float sums are exact in any order, so the result is the same."""
    if not len(codes) or codes[0] < 0 or (np.diff(codes) < 0).any():
        return cv.entity_sums(codes, np.ones(len(codes), dtype=bool), values, n)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    out = np.zeros((n, values.shape[1]))
    out[codes[starts]] = np.add.reduceat(np.where(np.isnan(values), 0.0, values), starts, axis=0)
    return out


def compute(
    analysis_date: dt.date,
    inputs: Mapping[str, pd.DataFrame | list[dict]],
    run_timestamp: dt.datetime | None = None,
) -> ProcessorResult:
    """Rows of `player_shot_zone_analysis` for D = analysis_date (spec Part 3)."""
    frames = read_declared(inputs, SPEC.inputs)
    out_spec = table(OUTPUT)
    schedule = frames[SCHEDULE]
    boot = cv.bootstrap_result(analysis_date, schedule, out_spec)
    if boot is not None:
        return boot
    run_ts = resolve_run_timestamp(run_timestamp)

    games = frames[PGS]
    fast = _history(games, analysis_date, schedule)
    if fast is not None:
        pos, codes, universe, heads = fast
        dates = games["game_date"].to_numpy()[pos]
    else:
        hist = cv.history_positions(games, KEY, analysis_date, schedule)  # grouped by player, newest first
        keys, pos, dates = hist[KEY].to_numpy(dtype=object), hist.index.to_numpy(), hist["game_date"].to_numpy()
        codes, universe, heads = _players(keys)
        if codes is None:  # NULL players: no entity, drop their rows
            known = ~pd.isna(keys)
            keys, pos, dates = keys[known], pos[known], dates[known]
            codes, universe, heads = _players(keys)
    team_dates = cv.team_final_dates(schedule, analysis_date)
    active = _active_mask(games, pos)
    act_rank = np.full(len(pos), np.iinfo("int64").max)
    act_rank[active] = cv.rank_in_order(codes[active])  # rank among the player's active games
    n_active = np.bincount(codes[active], minlength=len(universe))
    ok, qualified, skipped = cv.qualify(universe, n_active, SHOT_ZONE_MIN_GAMES, "active games")
    if not qualified:
        base = f"0/{len(universe)} players have {SHOT_ZONE_MIN_GAMES} active games"
        return cv.no_rows_result(out_spec, base, team_dates, SHOT_ZONE_MIN_GAMES, skipped, len(universe))

    n = len(qualified)
    q_codes = np.where(ok, np.cumsum(ok) - 1, -1)[codes]
    long_rows = np.flatnonzero(active & (act_rank < SHOT_ZONE_LONG_WINDOW_GAMES) & (q_codes >= 0))
    long_pos = pos[long_rows]
    values = np.column_stack([games[c].to_numpy(dtype="float64")[long_pos] for c in COUNT_COLUMNS])
    long_codes = q_codes[long_rows]
    l10 = window_sums(values, long_codes, act_rank[long_rows] < SHOT_ZONE_WINDOW_GAMES, n)
    l20 = window_sums(values, long_codes, np.ones(len(long_rows), dtype=bool), n)
    rows = {KEY: qualified, "universal_player_id": None, **metrics(l10, l20)}
    rows["source_player_game_last_updated"] = cv.entity_latest(long_codes, np.ones(len(long_rows), dtype=bool),
                                                               games["processed_at"].take(long_pos), n)  # fmt: skip
    first = pos[heads[ok]]  # each qualified player's newest row
    rows["universal_player_id"] = pd.Series(_newest_known(games["universal_player_id"], first, pos, q_codes, n),
                                            dtype="object")  # fmt: skip
    newest_team = games["team_abbr"].to_numpy(dtype=object)[first]
    window = _window_rows(team_dates, PLAYER_COMPLETENESS_WINDOW_GAMES, dates) & (q_codes >= 0)
    comp = cv.completeness(  # entities as their distinct integer codes: the same counts as their names
        pd.DataFrame({"entity": np.arange(n), "team": pd.Series(newest_team, dtype=object)}),
        pd.DataFrame({"entity": q_codes[window], "game_date": dates[window]}, copy=False),
        team_dates,
        day=analysis_date,
        last_games=PLAYER_COMPLETENESS_WINDOW_GAMES,
    )
    rows.update(cv.zone_bookkeeping(comp, rows.pop("_missing_zone"), "source_player_game_completeness_pct",
                                    analysis_date, run_ts))  # fmt: skip
    for label in ("sample_quality_10", "sample_quality_20", "data_quality_tier"):  # never NULL: stored as `str`
        rows[label] = pd.array(rows[label], dtype="str")
    rows = cv.finalize_dict(rows, len(qualified), out_spec, HASH_FIELDS)
    return cv.checked_result(rows, out_spec, skipped=skipped, eligible=len(universe))


def _history(
    games: pd.DataFrame, day: dt.date, schedule: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, list, np.ndarray] | None:
    """`history_positions` rows of the non-NULL players on arrays: (positions in `games`, player
    code of each, the players sorted, first row of each), grouped by player, newest first.

    One hash pass over the season window's keys, a sort of the few hundred distinct names and a
    stable integer sort by player of the rows in reverse date order (the loader's frames come
    sorted by date); repeated (player, date) rows go to the shared `dedup_latest`. None when the
    frame is not of that shape (the general path then applies).
    """
    all_dates = games["game_date"].to_numpy()
    years = games["season_year"].to_numpy()
    if all_dates.dtype != "datetime64[ns]" or years.dtype != np.float64 or not games.index.is_unique:
        return None
    season = season_of(day)
    start = pd.Timestamp(cv.opening_night(schedule, season)).to_datetime64()
    sel = np.flatnonzero((all_dates >= start) & (all_dates < np.datetime64(day, "ns")))
    in_season = years[sel]
    if np.isnan(in_season).any():
        return None
    sel = sel[in_season == season]
    keys = games[KEY].to_numpy(dtype=object)
    try:
        found, uniques = pd.factorize(keys[sel])
    except TypeError:
        return None
    names = np.asarray(uniques, dtype=object)
    if not all(type(v) is str for v in names):
        return None
    by_name = np.argsort(names, kind="stable")
    rank = np.empty(len(names), dtype="int64")
    rank[by_name] = np.arange(len(names))
    ints = all_dates[sel].view("int64")
    known = found >= 0
    sel, codes, ints = sel[known], rank[found[known]], ints[known]
    if len(ints) > 1 and (np.diff(ints) >= 0).all():  # date order: reverse it, sort by player only
        order = np.argsort(codes[::-1].astype("int32"), kind="stable")
        sel, codes, ints = sel[::-1][order], codes[::-1][order], ints[::-1][order]
    else:
        order = np.lexsort((-ints, codes))
        sel, codes, ints = sel[order], codes[order], ints[order]
    same = (codes[1:] == codes[:-1]) & (ints[1:] == ints[:-1])
    if same.any():  # repeated (player, game_date): dedup_latest picks the row
        repeated = np.r_[same, False] | np.r_[False, same]
        rows = np.sort(sel[repeated])
        kept = games.index.get_indexer(cv.dedup_latest(games.take(rows), KEY).index)
        keep = ~repeated | np.isin(sel, kept)
        sel, codes = sel[keep], codes[keep]
    heads = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype="int64")
    return sel, codes, names[by_name].tolist(), heads


def _players(keys: np.ndarray) -> tuple[np.ndarray | None, list, np.ndarray]:
    """(code of each row, the distinct players sorted, first row of each) for `history` keys,
    which come grouped in ascending order: one comparison of neighbours instead of a sort.
    Codes are None when a key is NULL; rows out of order fall back to a sorted factorization."""
    if not len(keys):
        return np.zeros(0, dtype="int64"), [], np.zeros(0, dtype="int64")
    heads = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    names = keys[heads]
    if pd.isna(names).any():
        return None, [], heads
    if len(names) < 2 or (names[1:] > names[:-1]).all():
        return np.repeat(np.arange(len(heads)), np.diff(np.r_[heads, len(keys)])), names.tolist(), heads
    codes, uniques = pd.factorize(keys, sort=True)
    _, heads = np.unique(codes, return_index=True)
    return codes, list(uniques), heads


def _newest_known(column: pd.Series, first: np.ndarray, pos: np.ndarray, q_codes: np.ndarray, n: int) -> np.ndarray:
    """Each qualified player's value of `column` on his newest row where it is not NULL (None if
    never): usually the newest row itself, so the whole history is read only when one is NULL."""
    values = column.to_numpy(dtype=object)
    newest = values[first]
    if not pd.isna(newest).any():
        return newest
    picked = values[pos]
    return cv.entity_first(q_codes, pd.notna(picked), picked, n)


def _window_rows(team_dates: pd.DataFrame, last_games: int, dates: np.ndarray) -> np.ndarray:
    """Rows dated on or after the oldest date of any team's `last_games` window: no other row
    can count in a completeness window, so completeness need not read them."""
    team_days = team_dates["game_date"].to_numpy()
    if not len(team_days) or np.isnat(team_days).any():
        return np.ones(len(dates), dtype=bool)
    teams, _ = pd.factorize(team_dates["team"])  # newest first per team (`team_final_dates`)
    return dates >= team_days[cv.rank_in_order(teams) < last_games].min()


def _active_mask(games: pd.DataFrame, pos: np.ndarray) -> np.ndarray:
    """Of the rows at `pos`: is_active TRUE and minutes_played > 0 (`conventions.active_games`)."""
    active = games["is_active"].to_numpy(dtype=bool, na_value=False)[pos]
    with np.errstate(invalid="ignore"):
        return active & (games["minutes_played"].to_numpy(dtype="float64", na_value=np.nan)[pos] > 0)


SPEC = ProcessorSpec(
    name=NAME,
    phase=4,
    output_table=OUTPUT,
    date_column="analysis_date",
    inputs=(
        InputSpec(PGS, "season_to_date", columns=PGS_COLUMNS),
        InputSpec(SCHEDULE, "season_to_date", columns=SCHEDULE_COLUMNS),
    ),
    compute=compute,
    upstreams=(),
    needs_context=False,
    bootstrap_skip=True,
    description="Shot distribution and zone FG% of each player over his last 10 active games.",
)
