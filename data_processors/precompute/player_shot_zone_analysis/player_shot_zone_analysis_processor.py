"""Phase 4 `player_shot_zone_analysis`: where each player shoots from, over his last 10 active games.

Spec: phase4-zone-analysis.md Part 3. One row per player with at least 10 active in-season
games before D: zone rates, zone FG%, attempts per game, assisted share, a 20-game paint
view and the primary scoring zone.
"""
from __future__ import annotations

import dataclasses
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
from nba_backfill.frames import empty_frame, normalize_frame, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec, Skipped
from nba_backfill.tables import TableSpec, table
from nba_backfill.values import round_series

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
ZONE_ATTEMPTS = ["paint_attempts", "mid_range_attempts", "three_pt_attempts"]
COUNT_COLUMNS = [
    "paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes",
    "three_pt_attempts", "three_pt_makes", "fg_makes", "assisted_fg_makes", "unassisted_fg_makes",
]  # fmt: skip

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


def primary_zone(paint: float | None, mid: float | None, three: float | None) -> str | None:
    """Primary scoring zone from the stored 2-decimal rates (NULL as 0); first matching rule wins."""
    p, m, t = (0.0 if v is None or pd.isna(v) else float(v) for v in (paint, mid, three))
    if p == 0 and m == 0 and t == 0:
        return None
    if p >= 40:
        return "paint"
    if t >= 40:
        return "perimeter"
    if m >= 35:
        return "mid_range"
    return "balanced"


def _div(num: pd.Series, den: pd.Series, scale: float = 1.0) -> pd.Series:
    """num / den * scale, NULL where den is 0 (vectorized; never NaN from 0/0 or Inf)."""
    den = den.astype("float64")
    safe = den.where(den != 0)
    return (num / safe) * scale if scale != 1.0 else num / safe


def window_sums(window: pd.DataFrame, players: pd.Index) -> pd.DataFrame:
    """Per-player sums of the counting columns (NULL as 0) and game counts, reindexed to `players`."""
    sums = window[COUNT_COLUMNS].fillna(0).groupby(window[KEY]).sum()
    sums["games"] = window.groupby(KEY).size()
    sums["missing_zone"] = window[ZONE_ATTEMPTS].isna().any(axis=1).groupby(window[KEY]).sum()
    sums["last_updated"] = window.groupby(KEY)["processed_at"].max()
    return sums.reindex(players)


def metrics(l10: pd.DataFrame, l20: pd.DataFrame) -> pd.DataFrame:
    """The unrounded metric columns, one row per player (index), from the L10 and L20 sums."""
    n10 = l10["games"].astype("int64")
    n20 = l20["games"].astype("int64")
    total = l10["paint_attempts"] + l10["mid_range_attempts"] + l10["three_pt_attempts"]
    total20 = l20["paint_attempts"] + l20["mid_range_attempts"] + l20["three_pt_attempts"]
    long_ok = n20 >= SHOT_ZONE_LONG_MIN_GAMES
    out = pd.DataFrame(index=l10.index)
    out["paint_rate_last_10"] = _div(l10["paint_attempts"], total, 100.0)
    out["mid_range_rate_last_10"] = _div(l10["mid_range_attempts"], total, 100.0)
    out["three_pt_rate_last_10"] = _div(l10["three_pt_attempts"], total, 100.0)
    out["total_shots_last_10"] = total.astype("int64")
    out["games_in_sample_10"] = n10
    out["sample_quality_10"] = [sample_quality(n, SHOT_ZONE_WINDOW_GAMES) for n in n10]
    out["paint_pct_last_10"] = _div(l10["paint_makes"], l10["paint_attempts"])
    out["mid_range_pct_last_10"] = _div(l10["mid_range_makes"], l10["mid_range_attempts"])
    out["three_pt_pct_last_10"] = _div(l10["three_pt_makes"], l10["three_pt_attempts"])
    out["paint_attempts_per_game"] = l10["paint_attempts"] / n10
    out["mid_range_attempts_per_game"] = l10["mid_range_attempts"] / n10
    out["three_pt_attempts_per_game"] = l10["three_pt_attempts"] / n10
    out["paint_rate_last_20"] = _div(l20["paint_attempts"], total20, 100.0).where(long_ok)
    out["paint_pct_last_20"] = _div(l20["paint_makes"], l20["paint_attempts"]).where(long_ok)
    out["games_in_sample_20"] = n20
    out["sample_quality_20"] = [sample_quality(n, SHOT_ZONE_LONG_WINDOW_GAMES) for n in n20]
    out["assisted_rate_last_10"] = _div(l10["assisted_fg_makes"], l10["fg_makes"], 100.0)
    out["unassisted_rate_last_10"] = _div(l10["unassisted_fg_makes"], l10["fg_makes"], 100.0)
    out["player_position"] = None
    stored = {c: round_series(out[c], 2) for c in ("paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10")}
    out["primary_scoring_zone"] = [primary_zone(*vals) for vals in zip(*stored.values())]
    out["data_quality_tier"] = [quality_tier(n) for n in n10]
    k = l10["missing_zone"].astype("int64")
    out["calculation_notes"] = [f"{m} of {n} games missing zone data" if m > 0 else None for m, n in zip(k, n10)]
    out["_missing_zone"] = k
    out["source_player_game_last_updated"] = l20["last_updated"]
    out["source_player_game_rows_found"] = n20
    out["source_player_game_hash"] = None
    return out


def read_inputs(inputs: Mapping[str, Any], reads: Mapping[str, tuple[str, ...]]) -> dict[str, pd.DataFrame]:
    """Input frames normalized like `normalize_inputs`, but only the columns this processor reads.

    Normalizing (and later sorting) every contract column of a season-to-date frame costs
    far more than the computation itself, and reading only the declared columns guarantees
    the processor never depends on a column it is not specified to read.
    """
    frames: dict[str, pd.DataFrame] = {}
    for name, cols in reads.items():
        full = table(name)
        spec = dataclasses.replace(full, columns=tuple(full.column(c) for c in cols))
        data = inputs.get(name)
        if data is None:
            frames[name] = empty_frame(spec)
            continue
        df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
        present = df[[c for c in cols if c in df.columns]]
        if len(present.columns) < len(cols):
            present.attrs = {}  # a partial frame cannot take the loader's already-normalized fast path
        frames[name] = normalize_frame(present, spec)
    return frames


def invariant_violation(rows: pd.DataFrame, spec: TableSpec) -> str | None:
    """The first violated output invariant (spec §1.2), or None when the rows are valid."""
    if rows.duplicated(subset=list(spec.primary_key)).any():
        return f"duplicate primary key {list(spec.primary_key)}"
    for col in spec.columns:
        values = rows[col.name]
        if col.required and values.isna().any():
            return f"NULL in REQUIRED column {col.name}"
        if col.base_type in ("NUMERIC", "FLOAT64") and not col.repeated:
            nums = pd.to_numeric(values, errors="coerce").astype("float64")
            if np.isinf(nums.to_numpy()).any():
                return f"infinite value in {col.name}"
            precision, scale = col.numeric_precision, col.numeric_scale
            if precision is not None and (nums.abs() >= 10.0 ** (precision - (scale or 0))).any():
                return f"value out of NUMERIC({precision},{scale}) range in {col.name}"
    return None


def compute(
    analysis_date: dt.date,
    inputs: Mapping[str, pd.DataFrame | list[dict]],
    run_timestamp: dt.datetime | None = None,
) -> ProcessorResult:
    """Rows of `player_shot_zone_analysis` for D = analysis_date (spec Part 3)."""
    frames = read_inputs(inputs, {PGS: PGS_COLUMNS, SCHEDULE: SCHEDULE_COLUMNS})
    out_spec = table(OUTPUT)
    schedule = frames[SCHEDULE]
    boot = cv.bootstrap_result(analysis_date, schedule, out_spec)
    if boot is not None:
        return boot
    run_ts = resolve_run_timestamp(run_timestamp)

    hist = cv.history(frames[PGS], KEY, analysis_date, schedule)
    hist = hist[hist[KEY].notna()]
    team_dates = cv.team_final_dates(schedule, analysis_date)
    season_max = int(team_dates.groupby("team").size().max()) if len(team_dates) else 0
    universe = pd.Index(sorted(hist[KEY].unique()), dtype="object")

    active = cv.active_games(hist)
    n_active = active.groupby(KEY).size().reindex(universe, fill_value=0)
    qualified = universe[(n_active >= SHOT_ZONE_MIN_GAMES).to_numpy()]
    skipped = [
        Skipped(p, "insufficient_data", f"{int(n)} active games, need {SHOT_ZONE_MIN_GAMES}")
        for p, n in n_active.items()
        if n < SHOT_ZONE_MIN_GAMES
    ]
    if len(qualified) == 0:
        return _empty_outcome(out_spec, len(universe), skipped, season_max)

    active = active[active[KEY].isin(qualified)]
    rows = metrics(
        window_sums(cv.last_n(active, KEY, SHOT_ZONE_WINDOW_GAMES), qualified),
        window_sums(cv.last_n(active, KEY, SHOT_ZONE_LONG_WINDOW_GAMES), qualified),
    )
    own = hist[hist[KEY].isin(qualified)]
    newest = own.drop_duplicates(KEY)  # hist is newest first per player
    upid = own[own["universal_player_id"].notna()].drop_duplicates(KEY).set_index(KEY)["universal_player_id"]
    rows.insert(0, "universal_player_id", upid.reindex(qualified).astype("object").where(lambda s: s.notna(), None))
    comp = cv.completeness(
        pd.DataFrame({"entity": newest[KEY].to_numpy(), "team": newest["team_abbr"].to_numpy()}),
        own[[KEY, "game_date"]].rename(columns={KEY: "entity"}),
        team_dates,
        day=analysis_date,
        last_games=PLAYER_COMPLETENESS_WINDOW_GAMES,
    ).reindex(qualified)
    rows = _add_bookkeeping(rows.rename_axis(KEY).reset_index(), comp, analysis_date, run_ts)
    rows = cv.finalize(rows, out_spec, HASH_FIELDS)
    problem = invariant_violation(rows, out_spec)
    if problem is not None:
        return ProcessorResult(rows=cv.empty_rows(out_spec), outcome="FAILED", reason=problem, skipped=skipped)
    return ProcessorResult(rows=rows, outcome="COMPLETE", skipped=skipped, entities_eligible=len(universe))


def _add_bookkeeping(rows: pd.DataFrame, comp: pd.DataFrame, day: dt.date, run_ts: pd.Timestamp) -> pd.DataFrame:
    """Completeness, issue codes and the constant bookkeeping columns (spec §1.8, §1.10)."""
    rows = rows.assign(
        analysis_date=day,
        expected_games_count=comp["expected"].to_numpy(),
        actual_games_count=comp["actual"].to_numpy(),
        missing_games_count=comp["missing"].to_numpy(),
        completeness_percentage=comp["pct"].to_numpy(),
        source_player_game_completeness_pct=comp["pct"].to_numpy(),
        early_season_flag=False,
        insufficient_data_reason=None,
    )
    rows["is_production_ready"] = [cv.is_ready(p) for p in rows["completeness_percentage"]]
    rows["data_quality_issues"] = [
        (["own_data_incomplete"] if not ready else []) + (["missing_zone_data"] if k > 0 else [])
        for ready, k in zip(rows["is_production_ready"], rows["_missing_zone"])
    ]
    for col, value in cv.bookkeeping(day, run_ts).items():
        rows[col] = value
    return rows.drop(columns=["_missing_zone"])


def _empty_outcome(out_spec: TableSpec, n_universe: int, skipped: list[Skipped], season_max: int) -> ProcessorResult:
    """EXPECTED_EMPTY while no team has played 10 final games, else FAILED (an upstream gap)."""
    base = f"0/{n_universe} players have {SHOT_ZONE_MIN_GAMES} active games"
    if season_max < SHOT_ZONE_MIN_GAMES:
        outcome, reason = "EXPECTED_EMPTY", base
    else:
        outcome, reason = "FAILED", f"{base} although the schedule shows {season_max} final games for some team"
    return ProcessorResult(
        rows=cv.empty_rows(out_spec), outcome=outcome, reason=reason, skipped=skipped, entities_eligible=n_universe
    )


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
    wrapper=f"backfill_jobs/precompute/{NAME}/{NAME}_precompute_backfill.py",
)
