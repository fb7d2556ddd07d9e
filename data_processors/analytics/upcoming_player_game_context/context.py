"""Per-player history columns (spec §4.3-4.5, §4.7): fatigue, scoring form, streaks, usage, identity.

All history is the in-season, de-duplicated `player_game_summary` of SY strictly before D.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from data_processors.precompute.conventions import dedup_latest, entity_aggregate, entity_latest, entity_ranks, rank_in_order
from nba_backfill.dates import season_label
from nba_backfill.values import round_half_away

from .keys import map_teams

DAY = pd.Timedelta(days=1)

#: The player_game_summary columns this processor reads (frames are projected early: filters copy every column).
PGS_COLUMNS = [
    "player_lookup", "universal_player_id", "game_id", "game_date", "team_abbr", "season_year", "points",
    "minutes_played", "fg_attempts", "fg_makes", "usage_rate", "over_under_result", "is_active", "processed_at",
]


def in_season(df: pd.DataFrame, season: int, opening: dt.date, day: dt.date) -> pd.DataFrame:
    """Rows of season SY with opening night <= game_date < D (the rule of conventions.in_season, opening night precomputed)."""
    if df.empty:
        return df
    seasons = df["season_year"].fillna(pd.Series(np.where(df["game_date"].dt.month >= 10, df["game_date"].dt.year, df["game_date"].dt.year - 1), index=df.index))
    mask = (seasons == season) & (df["game_date"] >= pd.Timestamp(opening)) & (df["game_date"] < pd.Timestamp(day))
    return df[mask.to_numpy()]


def dedup(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """dedup_latest, applied only to the (key, game_date) groups that actually hold duplicates."""
    if df.empty:
        return df
    dup = df.duplicated([key, "game_date"], keep=False)
    if not dup.any():
        return df
    return pd.concat([df[~dup], dedup_latest(df[dup], key)]).sort_index()


def appearances_mask(rows: pd.DataFrame) -> np.ndarray:
    """is_active = TRUE and minutes_played > 0 (NULL counts as FALSE / 0)."""
    return rows["is_active"].fillna(False).astype(bool).to_numpy() & (rows["minutes_played"].fillna(0) > 0).to_numpy()


def appearances(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with is_active = TRUE and minutes_played > 0."""
    return rows[appearances_mask(rows)]


def newest_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Sorted by player, game_date DESC, game_id DESC (A₀ first)."""
    return rows.sort_values(["player_lookup", "game_date", "game_id"], ascending=[True, False, False], kind="mergesort")


def _truncated_minutes(total: pd.Series) -> pd.Series:
    """Σ minutes rounded to 1 decimal (half away from zero), then truncated to an integer."""
    return pd.Series([int(round_half_away(v, 1)) for v in total], index=total.index, dtype="float64")


def _days(later: np.ndarray | np.datetime64, earlier: np.ndarray) -> np.ndarray:
    """Whole days between datetime64 values as float64 (NaN where either is NaT), like `.dt.days`."""
    return (later - earlier) / np.timedelta64(1, "D")


def player_history(history: pd.DataFrame, keys: Iterable[str], day: dt.date) -> pd.DataFrame:
    """Fatigue, form, streak and source columns per key from R(p) (in-season, deduped rows before D).

    One pass on integer key codes over R(p) sorted newest first; grouped means and sums follow
    pandas' arithmetic exactly (`conventions.entity_aggregate`).
    """
    index = pd.Index(sorted(keys), name="key")
    n = len(index)
    d = np.datetime64(pd.Timestamp(day), "ns")
    r = newest_first(history[history["player_lookup"].isin(index)])
    codes, _, _ = entity_ranks(r["player_lookup"], index)
    act = appearances_mask(r)
    a = codes[act]  # appearances A(p), newest first
    rank = rank_in_order(a)
    dates = r["game_date"].to_numpy(dtype="datetime64[ns]")[act]

    def floats(col: str) -> np.ndarray:
        return r[col].to_numpy(dtype="float64", na_value=np.nan)[act]

    def count(mask: np.ndarray | bool = True) -> np.ndarray:
        return np.bincount(a[mask] if mask is not True else a, minlength=n).astype("float64")

    def per_key(how: str, mask: np.ndarray | bool, **columns: np.ndarray) -> dict[str, np.ndarray]:
        return entity_aggregate(how, np.where(mask, a, -1), columns, n)

    out: dict[str, object] = {
        "source_boxscore_rows_found": np.bincount(codes, minlength=n).astype("float64"),
        "source_boxscore_last_updated": entity_latest(codes, codes >= 0, r["processed_at"], n).array,
        "n_appearances": count(),
    }
    newest = np.full(n, np.datetime64("NaT", "ns"))
    second = newest.copy()
    newest[a[rank == 0]] = dates[rank == 0]
    second[a[rank == 1]] = dates[rank == 1]
    out["days_rest"] = _days(d, newest)
    out["back_to_back"] = out["days_rest"] == 1
    out["days_rest_before_last_game"] = _days(newest, second)

    same_newer = np.r_[False, a[1:] == a[:-1]]  # the previous row is the same player's newer game
    newer = np.where(same_newer, np.r_[d, dates[:-1]], d)
    rest = np.flatnonzero(newer - dates >= np.timedelta64(3, "D"))
    found, first = np.unique(a[rest], return_index=True)
    first_rest = np.full(n, np.datetime64("NaT", "ns"))
    first_rest[found] = newer[rest[first]]
    out["days_since_2_plus_days_rest"] = _days(d, first_rest)

    minutes_played = floats("minutes_played")
    for days in (7, 14):
        inside = dates >= d - np.timedelta64(days, "D")
        games = count(inside)
        minutes = per_key("sum", inside, m=minutes_played)["m"]
        out[f"games_in_last_{days}_days"] = games
        out[f"minutes_in_last_{days}_days"] = _truncated_minutes(pd.Series(minutes)).to_numpy()
        if days == 7:
            with np.errstate(divide="ignore", invalid="ignore"):
                out["avg_minutes_per_game_last_7"] = np.where(games > 0, minutes / games, np.nan)
    out["n30"] = count(dates >= d - np.timedelta64(30, "D"))

    same_older = np.r_[a[:-1] == a[1:], False]
    older = np.where(same_older, np.r_[dates[1:], d], np.datetime64("NaT", "ns"))
    pair = same_older & (older >= d - np.timedelta64(14, "D")) & (dates - older == np.timedelta64(1, "D"))
    out["back_to_backs_last_14_days"] = count(pair)

    points, fga, fgm = floats("points"), floats("fg_attempts"), floats("fg_makes")
    out["points_avg_last_5"] = per_key("mean", rank < 5, p=points)["p"]
    out["points_avg_last_10"] = per_key("mean", rank < 10, p=points)["p"]
    every = per_key("sum", True, fga=fga, fgm=fgm)
    five = per_key("sum", rank < 5, fga=fga, fgm=fgm)
    played = count() > 0  # keys without appearances have NULL sums (reindexed), not 0
    fga_all, fgm_all = np.where(played, every["fga"], np.nan), np.where(played, every["fgm"], np.nan)
    fga5, fgm5 = np.where(played, five["fga"], np.nan), np.where(played, five["fgm"], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        decline = fgm_all / fga_all - fgm5 / fga5
    valid = (out["n_appearances"] >= 5) & (fga_all > 0) & (fga5 > 0)
    out["shooting_pct_decline_last_5"] = np.where(valid, decline, np.nan)

    usage = floats("usage_rate")
    has_usage = ~np.isnan(usage)
    usage_rank = np.full(len(a), len(a))
    usage_rank[has_usage] = rank_in_order(a[has_usage])
    out["avg_usage_rate_last_7_games"] = per_key("mean", has_usage & (usage_rank < 7), u=usage)["u"]

    out["prop_over_streak"], out["prop_under_streak"] = _streaks(r, codes, n)
    return pd.DataFrame(out, index=index)


def _streaks(rows: pd.DataFrame, codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Leading run of 'OVER' / 'UNDER' results, newest first (one of the two is always 0)."""
    results = rows["over_under_result"].to_numpy(dtype=object)
    over, under = results == "OVER", results == "UNDER"
    keep = over | under
    c, is_over = codes[keep], over[keep]
    rank = rank_in_order(c)
    lead_over = np.zeros(n, dtype=bool)
    lead_over[c[rank == 0]] = is_over[rank == 0]
    broken = is_over != lead_over[c]
    run = np.bincount(c, minlength=n)  # the whole group when the run is never broken
    np.minimum.at(run, c[broken], rank[broken])
    led = np.bincount(c, minlength=n) > 0
    return np.where(led & lead_over, run, 0).astype("float64"), np.where(led & ~lead_over, run, 0).astype("float64")


def universal_ids(placed: pd.DataFrame, registry: pd.DataFrame, recent: pd.DataFrame, season: int) -> pd.Series:
    """universal_player_id per key: registry (season, team), any registry row, recent boxscore, else NULL."""
    keys = placed.index
    reg = registry[registry["player_lookup"].isin(keys) & registry["universal_player_id"].notna()]
    reg = reg.assign(team=map_teams(reg["team_abbr"]))
    this = reg[(reg["season"] == season_label(season)).to_numpy()]
    step1 = dict(zip(zip(this["player_lookup"], this["team"]), this["universal_player_id"]))
    latest = reg.sort_values(["season", "processed_at"], ascending=False, na_position="last", kind="mergesort")
    step2 = dict(zip(latest["player_lookup"][::-1], latest["universal_player_id"][::-1]))
    mask = (recent["player_lookup"].isin(keys) & recent["universal_player_id"].notna()).to_numpy()
    box = recent.loc[mask, ["player_lookup", "universal_player_id", "game_date", "processed_at", "game_id"]]  # sort only what is read
    box = box.sort_values(["game_date", "processed_at", "game_id"], ascending=False, na_position="last", kind="mergesort")
    step3 = dict(zip(box["player_lookup"][::-1], box["universal_player_id"][::-1]))
    ids = [step1.get((k, t)) or step2.get(k) or step3.get(k) for k, t in zip(keys, placed["team"])]
    return pd.Series(ids, index=keys, dtype="object")


def ages(keys: pd.Index, player_list: pd.DataFrame, day: dt.date) -> pd.Series:
    """Whole years on D from the birth_date of the latest season_year row (ties: latest processed_at)."""
    rows = player_list[player_list["player_lookup"].isin(keys) & player_list["birth_date"].notna()]
    rows = rows.sort_values(["season_year", "processed_at"], ascending=False, na_position="last", kind="mergesort")
    births = dict(zip(rows["player_lookup"][::-1], rows["birth_date"][::-1]))
    values = []
    for key in keys:
        b = births.get(key)
        values.append(np.nan if b is None else day.year - b.year - (1 if (day.month, day.day) < (b.month, b.day) else 0))
    return pd.Series(values, index=keys, dtype="float64")
