"""Phase 4 `team_defense_zone_analysis`: zone-by-zone defense of each team over its last 15 games.

Spec: phase4-zone-analysis.md Part 2. One row per team with at least 15 in-season games
before D; zone FG% allowed is compared with a league average taken over D-30..D-1.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from nba_backfill.constants import (
    LEAGUE_AVG_DEFAULTS,
    LEAGUE_AVG_LOOKBACK_DAYS,
    LEAGUE_AVG_MIN_TEAM_GAMES,
    LEAGUE_AVG_MIN_TEAMS,
    TEAM_DEFENSE_MIN_GAMES,
    TEAM_DEFENSE_WINDOW_GAMES,
)
from nba_backfill.frames import empty_frame, normalize_frame, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec, Skipped
from nba_backfill.tables import TableSpec, table
from nba_backfill.values import is_null, round_half_away

NAME = "team_defense_zone_analysis"
OUTPUT = f"nba_precompute.{NAME}"
TDGS = "nba_analytics.team_defense_game_summary"
SCHEDULE = "nba_raw.nbac_schedule"
KEY = "defending_team_abbr"

TDGS_COLUMNS = (
    "defending_team_abbr", "game_id", "game_date", "season_year",
    "opp_paint_makes", "opp_paint_attempts", "opp_mid_range_makes", "opp_mid_range_attempts",
    "opp_three_pt_makes", "opp_three_pt_attempts", "points_in_paint_allowed",
    "blocks_paint", "blocks_mid_range", "blocks_three_pt", "points_allowed",
    "defensive_rating", "opponent_pace", "processed_at",
)  # fmt: skip
SCHEDULE_COLUMNS = (
    "game_date", "season_year", "home_team_tricode", "away_team_tricode",
    "game_status", "is_regular_season", "is_playoffs",
)  # fmt: skip

#: (label, makes column, attempts column), in the tie-break order of spec §2.6.
ZONES = (
    ("paint", "opp_paint_makes", "opp_paint_attempts"),
    ("mid_range", "opp_mid_range_makes", "opp_mid_range_attempts"),
    ("perimeter", "opp_three_pt_makes", "opp_three_pt_attempts"),
)
ATTEMPT_COLUMNS = [z[2] for z in ZONES]
COUNT_COLUMNS = [
    "opp_paint_makes", "opp_paint_attempts", "opp_mid_range_makes", "opp_mid_range_attempts",
    "opp_three_pt_makes", "opp_three_pt_attempts", "points_in_paint_allowed",
    "blocks_paint", "blocks_mid_range", "blocks_three_pt", "points_allowed",
]  # fmt: skip
DEFAULT_AVGS = {"paint": LEAGUE_AVG_DEFAULTS["paint"], "mid_range": LEAGUE_AVG_DEFAULTS["mid_range"],
                "perimeter": LEAGUE_AVG_DEFAULTS["three_pt"]}  # fmt: skip

HASH_FIELDS = (
    "team_abbr", "analysis_date",
    "paint_pct_allowed_last_15", "paint_attempts_allowed_per_game", "paint_points_allowed_per_game",
    "paint_blocks_per_game", "paint_defense_vs_league_avg",
    "mid_range_pct_allowed_last_15", "mid_range_attempts_allowed_per_game", "mid_range_blocks_per_game",
    "mid_range_defense_vs_league_avg",
    "three_pt_pct_allowed_last_15", "three_pt_attempts_allowed_per_game", "three_pt_blocks_per_game",
    "three_pt_defense_vs_league_avg",
    "defensive_rating_last_15", "opponent_points_per_game", "opponent_pace", "games_in_sample",
    "strongest_zone", "weakest_zone", "data_quality_tier", "calculation_notes",
)  # fmt: skip


def league_averages(hist: pd.DataFrame, day: dt.date) -> tuple[dict[str, float], str | None]:
    """Unweighted mean of qualifying teams' zone FG% over D-30..D-1, or the defaults plus a note."""
    lo = pd.Timestamp(day - dt.timedelta(days=LEAGUE_AVG_LOOKBACK_DAYS))
    window = hist[hist["game_date"] >= lo]
    cols = [c for _, m, a in ZONES for c in (m, a)]
    sums = window[cols].fillna(0).groupby(window[KEY]).sum()
    games = window.groupby(KEY).size()
    keep = games.reindex(sums.index) >= LEAGUE_AVG_MIN_TEAM_GAMES
    for _, _, att in ZONES:
        keep &= sums[att] > 0
    kept = sums[keep]
    if len(kept) >= LEAGUE_AVG_MIN_TEAMS:
        return {label: float((kept[m] / kept[a]).mean()) for label, m, a in ZONES}, None
    return dict(DEFAULT_AVGS), f"League averages defaulted ({len(kept)}/{LEAGUE_AVG_MIN_TEAMS} teams qualified)"


def zone_labels(vs: Mapping[str, float | None]) -> tuple[str | None, str | None]:
    """(strongest, weakest) from the stored 2-decimal vs-league values; ties to the first zone."""
    items = [(label, round_half_away(vs[label], 2)) for label, _, _ in ZONES if not is_null(vs[label])]
    if not items:
        return None, None
    strongest = min(items, key=lambda kv: kv[1])[0]
    weakest = max(items, key=lambda kv: kv[1])[0]
    return strongest, weakest


def quality_tier(games: int) -> str:
    """'high' for a full window, 'medium' for 10..14 games, else 'low'."""
    if games >= TEAM_DEFENSE_MIN_GAMES:
        return "high"
    return "medium" if games >= 10 else "low"


def window_aggregates(window: pd.DataFrame) -> pd.DataFrame:
    """Per-team sums (NULL as 0), means of non-NULL ratings, missing-zone count and latest processed_at."""
    grouped_counts = window[COUNT_COLUMNS].fillna(0).groupby(window[KEY])
    out = grouped_counts.sum()
    by_team = window.groupby(KEY)
    out["games"] = by_team.size()
    out["def_rating"] = by_team["defensive_rating"].mean()
    out["pace"] = by_team["opponent_pace"].mean()
    out["missing_zone"] = window[ATTEMPT_COLUMNS].isna().any(axis=1).groupby(window[KEY]).sum()
    out["last_updated"] = by_team["processed_at"].max()
    return out


def _ratio(num: float, den: float) -> float | None:
    return num / den if den != 0 else None


def team_row(team: str, agg: pd.Series, avgs: Mapping[str, float], league_note: str | None) -> dict[str, Any]:
    """The computed (unrounded) metric columns of one team's row."""
    g = int(agg["games"])
    pct = {label: _ratio(agg[m], agg[a]) for label, m, a in ZONES}
    vs = {label: None if pct[label] is None else (pct[label] - avgs[label]) * 100 for label in pct}
    strongest, weakest = zone_labels(vs)
    k = int(agg["missing_zone"])
    notes = [
        text
        for cond, text in (
            (agg["opp_paint_attempts"] == 0, "No paint attempts"),
            (agg["opp_mid_range_attempts"] == 0, "No mid-range attempts"),
            (agg["opp_three_pt_attempts"] == 0, "No three-point attempts"),
            (k > 0, f"{k} of {g} games missing zone data"),
            (league_note is not None, league_note),
        )
        if cond
    ]
    return {
        "team_abbr": team,
        "paint_pct_allowed_last_15": pct["paint"],
        "paint_attempts_allowed_per_game": agg["opp_paint_attempts"] / g,
        "paint_points_allowed_per_game": agg["points_in_paint_allowed"] / g,
        "paint_blocks_per_game": agg["blocks_paint"] / g,
        "paint_defense_vs_league_avg": vs["paint"],
        "mid_range_pct_allowed_last_15": pct["mid_range"],
        "mid_range_attempts_allowed_per_game": agg["opp_mid_range_attempts"] / g,
        "mid_range_blocks_per_game": agg["blocks_mid_range"] / g,
        "mid_range_defense_vs_league_avg": vs["mid_range"],
        "three_pt_pct_allowed_last_15": pct["perimeter"],
        "three_pt_attempts_allowed_per_game": agg["opp_three_pt_attempts"] / g,
        "three_pt_blocks_per_game": agg["blocks_three_pt"] / g,
        "three_pt_defense_vs_league_avg": vs["perimeter"],
        "defensive_rating_last_15": None if pd.isna(agg["def_rating"]) else agg["def_rating"],
        "opponent_points_per_game": agg["points_allowed"] / g,
        "opponent_pace": None if pd.isna(agg["pace"]) else agg["pace"],
        "games_in_sample": g,
        "strongest_zone": strongest,
        "weakest_zone": weakest,
        "data_quality_tier": quality_tier(g),
        "calculation_notes": "; ".join(notes) if notes else None,
        "source_team_defense_last_updated": None if pd.isna(agg["last_updated"]) else agg["last_updated"],
        "source_team_defense_rows_found": g,
        "source_team_defense_hash": None,
        "_missing_zone": k,
    }


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
    """Rows of `team_defense_zone_analysis` for D = analysis_date (spec Part 2)."""
    frames = read_inputs(inputs, {TDGS: TDGS_COLUMNS, SCHEDULE: SCHEDULE_COLUMNS})
    out_spec = table(OUTPUT)
    schedule = frames[SCHEDULE]
    boot = cv.bootstrap_result(analysis_date, schedule, out_spec)
    if boot is not None:
        return boot
    run_ts = resolve_run_timestamp(run_timestamp)

    hist = cv.history(frames[TDGS], KEY, analysis_date, schedule)
    hist = hist[hist[KEY].notna()]
    team_dates = cv.team_final_dates(schedule, analysis_date)
    season_max = int(team_dates.groupby("team").size().max()) if len(team_dates) else 0
    universe = sorted(set(team_dates["team"].dropna()) | set(hist[KEY]))

    window = cv.last_n(hist, KEY, TEAM_DEFENSE_WINDOW_GAMES)
    games = window.groupby(KEY).size().reindex(universe, fill_value=0)
    qualified = [t for t in universe if games[t] >= TEAM_DEFENSE_MIN_GAMES]
    skipped = [
        Skipped(t, "insufficient_data", f"{int(games[t])} games, need {TEAM_DEFENSE_MIN_GAMES}")
        for t in universe
        if games[t] < TEAM_DEFENSE_MIN_GAMES
    ]
    if not qualified:
        return _empty_outcome(out_spec, universe, skipped, season_max)

    avgs, league_note = league_averages(hist, analysis_date)
    aggs = window_aggregates(window[window[KEY].isin(qualified)])
    rows = pd.DataFrame([team_row(t, aggs.loc[t], avgs, league_note) for t in qualified])
    comp = cv.completeness(
        pd.DataFrame({"entity": qualified, "team": qualified}),
        hist[[KEY, "game_date"]].rename(columns={KEY: "entity"}),
        team_dates,
        day=analysis_date,
        last_games=TEAM_DEFENSE_WINDOW_GAMES,
    ).reindex(qualified)
    rows = _add_bookkeeping(rows, comp, analysis_date, run_ts)
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
        source_team_defense_completeness_pct=comp["pct"].to_numpy(),
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


def _empty_outcome(out_spec: TableSpec, universe: list[str], skipped: list[Skipped], season_max: int) -> ProcessorResult:
    """EXPECTED_EMPTY while no team can have 15 games yet, else FAILED (an upstream gap)."""
    base = f"0/{len(universe)} teams have {TEAM_DEFENSE_MIN_GAMES} games"
    if season_max < TEAM_DEFENSE_MIN_GAMES:
        return ProcessorResult(
            rows=cv.empty_rows(out_spec), outcome="EXPECTED_EMPTY", reason=base, skipped=skipped,
            entities_eligible=len(universe),
        )  # fmt: skip
    reason = f"{base} although the schedule shows {season_max} final games for some team"
    return ProcessorResult(
        rows=cv.empty_rows(out_spec), outcome="FAILED", reason=reason, skipped=skipped, entities_eligible=len(universe)
    )


SPEC = ProcessorSpec(
    name=NAME,
    phase=4,
    output_table=OUTPUT,
    date_column="analysis_date",
    inputs=(
        InputSpec(TDGS, "season_to_date", columns=TDGS_COLUMNS),
        InputSpec(SCHEDULE, "season_to_date", columns=SCHEDULE_COLUMNS),
    ),
    compute=compute,
    upstreams=(),
    needs_context=False,
    bootstrap_skip=True,
    description="Zone-by-zone defense of each team over its last 15 games versus the league average.",
    wrapper=f"backfill_jobs/precompute/{NAME}/{NAME}_precompute_backfill.py",
)
