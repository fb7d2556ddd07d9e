"""Per-player history columns (spec §4.3-4.5, §4.7): fatigue, scoring form, streaks, usage, identity.

All history is the in-season, de-duplicated `player_game_summary` of SY strictly before D.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from data_processors.precompute.conventions import dedup_latest
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


def appearances(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with is_active = TRUE and minutes_played > 0."""
    return rows[rows["is_active"].fillna(False).astype(bool).to_numpy() & (rows["minutes_played"].fillna(0) > 0).to_numpy()]


def newest_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Sorted by player, game_date DESC, game_id DESC (A₀ first)."""
    return rows.sort_values(["player_lookup", "game_date", "game_id"], ascending=[True, False, False], kind="mergesort")


def _truncated_minutes(total: pd.Series) -> pd.Series:
    """Σ minutes rounded to 1 decimal (half away from zero), then truncated to an integer."""
    return pd.Series([int(round_half_away(v, 1)) for v in total], index=total.index, dtype="float64")


def player_history(history: pd.DataFrame, keys: Iterable[str], day: dt.date) -> pd.DataFrame:
    """Fatigue, form, streak and source columns per key from R(p) (in-season, deduped rows before D)."""
    index = pd.Index(sorted(keys), name="key")
    d = pd.Timestamp(day)
    r = newest_first(history[history["player_lookup"].isin(index)])
    a = appearances(r)
    g = a.groupby("player_lookup", sort=False)
    rank = g.cumcount()
    out = pd.DataFrame(index=index)
    out["source_boxscore_rows_found"] = r.groupby("player_lookup").size().reindex(index).fillna(0)
    out["source_boxscore_last_updated"] = r.groupby("player_lookup")["processed_at"].max().reindex(index)
    out["n_appearances"] = g.size().reindex(index).fillna(0)
    a0 = a[rank.to_numpy() == 0].set_index("player_lookup")["game_date"].reindex(index)
    a1 = a[rank.to_numpy() == 1].set_index("player_lookup")["game_date"].reindex(index)
    out["days_rest"] = (d - a0).dt.days
    out["back_to_back"] = (out["days_rest"] == 1).astype(bool)
    out["days_rest_before_last_game"] = (a0 - a1).dt.days

    newer = g["game_date"].shift(1).fillna(d)
    qualifies = a.assign(newer=newer)[((newer - a["game_date"]) >= 3 * DAY).to_numpy()]
    first_rest = qualifies.drop_duplicates("player_lookup").set_index("player_lookup")["newer"].reindex(index)
    out["days_since_2_plus_days_rest"] = (d - first_rest).dt.days

    for days, suffix in ((7, "7"), (14, "14")):
        win = a[(a["game_date"] >= d - days * DAY).to_numpy()].groupby("player_lookup")
        games = win.size().reindex(index).fillna(0)
        minutes = win["minutes_played"].sum().reindex(index).fillna(0.0)
        out[f"games_in_last_{suffix}_days"] = games
        out[f"minutes_in_last_{suffix}_days"] = _truncated_minutes(minutes)
        if days == 7:
            out["avg_minutes_per_game_last_7"] = (minutes / games).where(games > 0)
    out["n30"] = a[(a["game_date"] >= d - 30 * DAY).to_numpy()].groupby("player_lookup").size().reindex(index).fillna(0)

    older = g["game_date"].shift(-1)
    pair = older.notna() & (older >= d - 14 * DAY) & ((a["game_date"] - older) == DAY)
    out["back_to_backs_last_14_days"] = pair.groupby(a["player_lookup"]).sum().reindex(index).fillna(0)

    first5, first10 = a[rank.to_numpy() < 5], a[rank.to_numpy() < 10]
    out["points_avg_last_5"] = first5.groupby("player_lookup")["points"].mean().reindex(index)
    out["points_avg_last_10"] = first10.groupby("player_lookup")["points"].mean().reindex(index)
    fga_all, fgm_all = g["fg_attempts"].sum().reindex(index), g["fg_makes"].sum().reindex(index)
    g5 = first5.groupby("player_lookup")
    fga5, fgm5 = g5["fg_attempts"].sum().reindex(index), g5["fg_makes"].sum().reindex(index)
    decline = fgm_all / fga_all - fgm5 / fga5
    valid = (out["n_appearances"] >= 5) & (fga_all > 0) & (fga5 > 0)
    out["shooting_pct_decline_last_5"] = decline.where(valid)

    usage = a[a["usage_rate"].notna().to_numpy()]
    usage = usage[(usage.groupby("player_lookup", sort=False).cumcount() < 7).to_numpy()]
    out["avg_usage_rate_last_7_games"] = usage.groupby("player_lookup")["usage_rate"].mean().reindex(index)

    out["prop_over_streak"], out["prop_under_streak"] = _streaks(r, index)
    return out


def _streaks(rows: pd.DataFrame, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Leading run of 'OVER' / 'UNDER' results, newest first (one of the two is always 0)."""
    res = rows[rows["over_under_result"].isin(["OVER", "UNDER"]).to_numpy()]
    first = res.groupby("player_lookup", sort=False)["over_under_result"].transform("first")
    broken = (res["over_under_result"] != first).astype(int).groupby(res["player_lookup"], sort=False).cummax()
    lead = res[(broken == 0).to_numpy()].groupby("player_lookup").agg(n=("over_under_result", "size"), v=("over_under_result", "first"))
    lead = lead.reindex(index)
    over = lead["n"].where(lead["v"] == "OVER", 0).fillna(0)
    under = lead["n"].where(lead["v"] == "UNDER", 0).fillna(0)
    return over.astype("float64"), under.astype("float64")


def universal_ids(placed: pd.DataFrame, registry: pd.DataFrame, recent: pd.DataFrame, season: int) -> pd.Series:
    """universal_player_id per key: registry (season, team), any registry row, recent boxscore, else NULL."""
    keys = placed.index
    reg = registry[registry["player_lookup"].isin(keys) & registry["universal_player_id"].notna()]
    reg = reg.assign(team=map_teams(reg["team_abbr"]))
    this = reg[(reg["season"] == season_label(season)).to_numpy()]
    step1 = dict(zip(zip(this["player_lookup"], this["team"]), this["universal_player_id"]))
    latest = reg.sort_values(["season", "processed_at"], ascending=False, na_position="last", kind="mergesort")
    step2 = dict(zip(latest["player_lookup"][::-1], latest["universal_player_id"][::-1]))
    box = recent[recent["player_lookup"].isin(keys) & recent["universal_player_id"].notna()]
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
