"""Phase 4 `player_composite_factors`: one row of adjustment factors per player with a game on D.

Spec: phase4-composite-cache-features.md §0 and §A (shared conventions: phase4-zone-analysis.md
Part 1). The factor formulas and context JSON live in `factors.py`; this module selects the
same-date rows, the player history and completeness, assembles the contract row and decides
the outcome.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute.conventions import (
    bookkeeping,
    bootstrap_result,
    checked_result,
    completeness,
    dedup_latest,
    empty_rows,
    entity_first,
    finalize,
    history_positions,
    is_ready,
    no_context_result,
    team_final_dates,
)
from data_processors.precompute.player_composite_factors import factors as f
from nba_backfill.constants import PLAYER_COMPLETENESS_WINDOW_GAMES
from nba_backfill.frames import as_timestamp, read_declared, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec
from nba_backfill.tables import table
from nba_backfill.values import round_series

NAME = "player_composite_factors"
OUTPUT = "nba_precompute.player_composite_factors"
CONTEXT = "nba_analytics.upcoming_player_game_context"
SHOT_ZONE = "nba_precompute.player_shot_zone_analysis"
TEAM_DEFENSE = "nba_precompute.team_defense_zone_analysis"
PLAYER_GAMES = "nba_analytics.player_game_summary"
SCHEDULE = "nba_raw.nbac_schedule"
CALCULATION_VERSION = "v1_4factors"

#: Columns read per input (spec §A.3); anything else in an input frame is ignored.
READ_COLUMNS: dict[str, tuple[str, ...]] = {
    CONTEXT: (
        "player_lookup", "universal_player_id", "game_id", "game_date", "team_abbr", "opponent_team_abbr",
        "days_rest", "back_to_back", "games_in_last_7_days", "minutes_in_last_7_days",
        "avg_minutes_per_game_last_7", "back_to_backs_last_14_days", "player_age", "projected_usage_rate",
        "avg_usage_rate_last_7_games", "star_teammates_out", "pace_differential", "opponent_pace_last_10",
        "is_production_ready", "processed_at",
    ),
    SHOT_ZONE: (
        "player_lookup", "analysis_date", "primary_scoring_zone", "paint_rate_last_10", "mid_range_rate_last_10",
        "three_pt_rate_last_10", "is_production_ready", "data_hash", "processed_at",
    ),
    TEAM_DEFENSE: (
        "team_abbr", "analysis_date", "paint_defense_vs_league_avg", "mid_range_defense_vs_league_avg",
        "three_pt_defense_vs_league_avg", "weakest_zone", "is_production_ready", "data_hash", "processed_at",
    ),
    PLAYER_GAMES: (
        "player_lookup", "game_date", "season_year", "team_abbr", "game_id", "universal_player_id", "processed_at",
    ),
    SCHEDULE: (
        "game_date", "season_year", "home_team_tricode", "away_team_tricode", "game_status",
        "is_regular_season", "is_playoffs",
    ),
}

HASH_FIELDS = (
    "player_lookup", "universal_player_id", "game_date", "game_id", "analysis_date", "fatigue_score",
    "shot_zone_mismatch_score", "pace_score", "usage_spike_score", "referee_favorability_score",
    "look_ahead_pressure_score", "travel_impact_score", "opponent_strength_score", "total_composite_adjustment",
    "calculation_version", "early_season_flag", "insufficient_data_reason", "data_completeness_pct",
    "missing_data_fields", "has_warnings", "warning_details",
)
DEFERRED_FACTORS = (
    "referee_favorability_score", "look_ahead_pressure_score", "travel_impact_score", "opponent_strength_score",
)
#: Checks of data_completeness_pct in order: (name in missing_data_fields, column that must be present).
COMPLETENESS_CHECKS = (
    ("days_rest", "days_rest"),
    ("projected_usage_rate", "projected_usage_rate"),
    ("pace_differential", "pace_differential"),
    ("player_shot_zone", "shot_found"),
    ("team_defense_zone", "def_found"),
)
CONTEXT_CHECKS = ("days_rest", "projected_usage_rate", "pace_differential")
COMPLETENESS_COLUMNS = ("expected_games_count", "actual_games_count", "completeness_percentage", "missing_games_count")
#: Output columns that are computed for every row and so must never be NaN.
NEVER_NULL = (
    "fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score", *DEFERRED_FACTORS,
    "total_composite_adjustment", "data_completeness_pct", "expected_games_count", "actual_games_count",
    "completeness_percentage", "missing_games_count", "source_player_context_rows_found",
    "source_player_context_completeness_pct", "source_player_shot_rows_found", "source_player_shot_completeness_pct",
    "source_team_defense_rows_found", "source_team_defense_completeness_pct",
)


def compute(
    analysis_date: dt.date,
    inputs: Mapping[str, Any],
    run_timestamp: dt.datetime | None = None,
) -> ProcessorResult:
    """Composite factors for every context player of `analysis_date` (spec §A, outcome §0.3)."""
    out_table = table(OUTPUT)
    frames = read_declared(inputs, SPEC.inputs)
    schedule = frames[SCHEDULE]
    bootstrap = bootstrap_result(analysis_date, schedule, out_table)
    if bootstrap is not None:
        return bootstrap
    ctx = context_rows(frames[CONTEXT], analysis_date)
    if ctx.empty:
        return no_context_result(analysis_date, schedule, out_table)
    try:
        rows = build_rows(ctx, frames, analysis_date, resolve_run_timestamp(run_timestamp))
    except NonFiniteInput as exc:
        return ProcessorResult(rows=empty_rows(out_table), outcome="FAILED", reason=str(exc))
    rows = finalize(rows, out_table, HASH_FIELDS)
    return checked_result(rows, out_table, eligible=len(rows), problem=_nan_problem(rows))


def context_rows(ctx: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Context rows of D, one per player (greatest processed_at, then greatest game_id)."""
    rows = ctx[ctx["game_date"] == as_timestamp(day)]
    return dedup_latest(rows, "player_lookup").reset_index(drop=True)


def latest_same_date(df: pd.DataFrame, key: str, day: dt.date) -> pd.DataFrame:
    """A Phase 4 table's rows for D, one per key (greatest processed_at; NULL oldest)."""
    rows = df[df["analysis_date"] == as_timestamp(day)]
    if not rows[key].duplicated().any():
        return rows
    order = rows.assign(_p=rows["processed_at"].notna()).sort_values(
        ["_p", "processed_at"], ascending=False, na_position="last", kind="mergesort"
    )
    return order.drop_duplicates(subset=[key], keep="first").drop(columns="_p")


def _with_upstreams(ctx: pd.DataFrame, frames: Mapping[str, pd.DataFrame], day: dt.date) -> pd.DataFrame:
    """Context rows joined to the player's shot-zone row (shot_*) and the opponent's defense row (def_*)."""
    shot = _lookup(latest_same_date(frames[SHOT_ZONE], "player_lookup", day), "player_lookup", ctx["player_lookup"], "shot")
    defense = _lookup(latest_same_date(frames[TEAM_DEFENSE], "team_abbr", day), "team_abbr", ctx["opponent_team_abbr"], "def")
    return pd.concat([ctx, pd.DataFrame({**shot, **defense}, index=ctx.index)], axis=1)


def _lookup(rows: pd.DataFrame, key: str, wanted: pd.Series, prefix: str) -> dict[str, Any]:
    """For each wanted key, the columns of its row in `rows` (unique keys) as `{prefix}_{column}`,
    NULL where absent (what a left merge gives), plus the `{prefix}_found` flag."""
    at = pd.Index(rows[key].to_numpy(dtype=object)).get_indexer(wanted.to_numpy(dtype=object))
    out: dict[str, Any] = {
        f"{prefix}_{c}": pd.Series(
            pd.api.extensions.take(rows[c].array, at, allow_fill=True), index=wanted.index, dtype=rows[c].dtype
        )
        for c in rows.columns
        if c not in (key, "analysis_date")
    }
    out[f"{prefix}_found"] = at >= 0
    return out


def _fill(values: pd.Series, fallback: pd.Series) -> pd.Series:
    """values where non-NULL, else fallback (object dtype, so an all-NULL map stays a string column)."""
    values = values.astype("object")
    return values.where(values.notna(), fallback.astype("object"))


def _history_facts(ctx: pd.DataFrame, frames: Mapping[str, pd.DataFrame], day: dt.date) -> pd.DataFrame:
    """Per context player: universal_player_id fallback and last-10-games completeness (§0.2, §1.8)."""
    schedule = frames[SCHEDULE]
    players = ctx["player_lookup"]
    pgs = frames[PLAYER_GAMES]
    pgs = pgs[pgs["player_lookup"].isin(players).to_numpy()].reset_index(drop=True)
    hist = history_positions(pgs, "player_lookup", day, schedule)  # grouped by player, newest first
    pos = hist.index.to_numpy()
    codes = pd.Index(players.to_numpy(dtype=object)).get_indexer(hist["player_lookup"].to_numpy(dtype=object))
    n = len(ctx)
    teams = pgs["team_abbr"].to_numpy(dtype=object)[pos]
    ids = pgs["universal_player_id"].to_numpy(dtype=object)[pos]
    newest_team = pd.Series(entity_first(codes, np.ones(len(pos), dtype=bool), teams, n), index=ctx.index)
    newest_id = pd.Series(entity_first(codes, pd.notna(ids), ids, n), index=ctx.index)
    comp = completeness(
        pd.DataFrame({"entity": players, "team": _fill(newest_team, ctx["team_abbr"])}),
        pd.DataFrame({"entity": hist["player_lookup"].to_numpy(dtype=object), "game_date": hist["game_date"].to_numpy()}),
        team_final_dates(schedule, day),
        day=day,
        last_games=PLAYER_COMPLETENESS_WINDOW_GAMES,
    )
    return pd.DataFrame(
        {
            "universal_player_id": _fill(ctx["universal_player_id"], newest_id),
            "expected_games_count": comp["expected"].to_numpy(),
            "actual_games_count": comp["actual"].to_numpy(),
            "missing_games_count": comp["missing"].to_numpy(),
            "completeness_percentage": comp["pct"].to_numpy("float64"),
        },
        index=ctx.index,
    )


def build_rows(ctx: pd.DataFrame, frames: Mapping[str, pd.DataFrame], day: dt.date, run_ts: pd.Timestamp) -> pd.DataFrame:
    """Every output column for the context players; labels already use the stored (rounded) scores."""
    data = _with_upstreams(ctx, frames, day)
    facts = _history_facts(ctx, frames, day)
    used = f.factor_inputs(data)
    penalties, bonus = f.fatigue_flags(used)
    fatigue = f.fatigue_score(penalties, bonus)
    zones = f.zone_used(data["shot_primary_scoring_zone"])
    usage_rate = f.pick_by_zone(_unprefixed(data, "shot_"), zones, 0, f.ZONE_USAGE_DEFAULT)
    dv = f.pick_by_zone(_unprefixed(data, "def_"), zones, 1, f.ZONE_DEFENSE_DEFAULT)
    _check_finite(pd.concat([used.drop(columns="back_to_back"), usage_rate, dv], axis=1))
    zone = f.zone_mismatch(usage_rate, dv, data["shot_found"] & data["def_found"])
    pace = f.pace_score(used["pace_differential"])
    usage = f.usage_spike(used["projected_usage_rate"], used["avg_usage_last_7"], used["star_teammates_out"])
    total = f.total_adjustment(fatigue, zone, pace, usage)
    stored = pd.DataFrame(
        {
            "zone": round_series(zone, 1),
            "pace": round_series(pace, 1),
            "usage": round_series(usage, 1),
            "total": round_series(total, 2),
        }
    )
    warnings = f.warning_details(fatigue, stored["zone"], stored["total"])
    checks = pd.DataFrame(
        {name: (data[col].notna() if col in CONTEXT_CHECKS else data[col]).to_numpy(bool) for name, col in COMPLETENESS_CHECKS}
    )
    missing = [", ".join(n for n, ok in zip(checks.columns, row) if not ok) or None for row in checks.to_numpy()]
    json_cols = f.context_json_columns(data, used, penalties, bonus, fatigue, zones, usage_rate, dv, stored)
    return pd.DataFrame(
        {
            "player_lookup": data["player_lookup"],
            "universal_player_id": facts["universal_player_id"],
            "game_date": day,
            "game_id": data["game_id"],
            "analysis_date": day,
            "fatigue_score": fatigue,
            "shot_zone_mismatch_score": stored["zone"],
            "pace_score": stored["pace"],
            "usage_spike_score": stored["usage"],
            **{name: 0.0 for name in DEFERRED_FACTORS},
            "total_composite_adjustment": stored["total"],
            **json_cols,
            "calculation_version": CALCULATION_VERSION,
            "data_completeness_pct": checks.sum(axis=1).to_numpy("float64") / len(COMPLETENESS_CHECKS) * 100,
            "missing_data_fields": missing,
            "has_warnings": [w is not None for w in warnings],
            "warning_details": warnings,
            **_source_columns(data),
            "early_season_flag": False,
            "insufficient_data_reason": None,
            **{c: facts[c] for c in COMPLETENESS_COLUMNS},
            "is_production_ready": _ready(data, facts),
            "data_quality_issues": _issues(data, facts),
            **bookkeeping(day, run_ts),
        },
        index=data.index,
    )


def _unprefixed(data: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The columns of one joined upstream under their own names."""
    cols = [c for c in data.columns if c.startswith(prefix)]
    return data[cols].rename(columns=lambda c: c[len(prefix):])


class NonFiniteInput(ValueError):
    """A factor input is ±Inf: no default applies (only NULL/NaN have one), so the date fails."""


def _check_finite(values: pd.DataFrame) -> None:
    """±Inf in a factor input would reach a clamp or the JSON: refuse the date instead."""
    bad = ~np.isfinite(values.to_numpy("float64"))
    if bad.any():
        cols = sorted({str(values.columns[j]) for j in np.nonzero(bad)[1]})
        raise NonFiniteInput(f"non-finite factor input in {', '.join(cols)}")


def _ready_flags(data: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per upstream: present and is_production_ready TRUE (NULL counts as FALSE)."""
    return {
        "context": data["is_production_ready"].fillna(False).to_numpy(bool),
        "shot": data["shot_found"].to_numpy(bool) & data["shot_is_production_ready"].fillna(False).to_numpy(bool),
        "def": data["def_found"].to_numpy(bool) & data["def_is_production_ready"].fillna(False).to_numpy(bool),
    }


def _ready(data: pd.DataFrame, facts: pd.DataFrame) -> np.ndarray:
    """Own completeness >= 90 and the context, shot-zone and opponent defense rows present and ready."""
    flags = _ready_flags(data)
    own = np.array([is_ready(p) for p in facts["completeness_percentage"]], dtype=bool)
    return own & flags["context"] & flags["shot"] & flags["def"]


def _issues(data: pd.DataFrame, facts: pd.DataFrame) -> list[list[str]]:
    """data_quality_issues in the order of §A.9."""
    flags = _ready_flags(data)
    own = [is_ready(p) for p in facts["completeness_percentage"]]
    found = {key: data[f"{key}_found"].tolist() for key in ("shot", "def")}
    out: list[list[str]] = []
    for i in range(len(data)):
        issues = [] if own[i] else ["own_data_incomplete"]
        if not flags["context"][i]:
            issues.append("upstream_player_context_incomplete")
        for key, name in (("shot", "player_shot_zone"), ("def", "team_defense_zone")):
            if not flags[key][i]:
                issues.append(f"upstream_{name}_{'incomplete' if found[key][i] else 'missing'}")
        out.append(issues)
    return out


def _source_columns(data: pd.DataFrame) -> dict[str, Any]:
    """Source tracking (§1.9): context row, shot-zone row, opponent defense row; team context unread."""
    n = len(data)
    cols: dict[str, Any] = {
        "source_player_context_last_updated": data["processed_at"],
        "source_player_context_rows_found": np.ones(n, dtype="int64"),
        "source_player_context_completeness_pct": 100.0,
        "source_team_context_last_updated": pd.Series(pd.NaT, index=data.index, dtype="datetime64[ns, UTC]"),
        "source_team_context_rows_found": pd.Series(pd.NA, index=data.index, dtype="Int64"),
        "source_team_context_completeness_pct": np.nan,
        "source_player_context_hash": None,
        "source_team_context_hash": None,
    }
    for prefix, name in (("shot", "player_shot"), ("def", "team_defense")):
        found = data[f"{prefix}_found"].to_numpy(bool)
        cols[f"source_{name}_last_updated"] = data[f"{prefix}_processed_at"].where(found)
        cols[f"source_{name}_rows_found"] = found.astype("int64")
        cols[f"source_{name}_completeness_pct"] = np.where(found, 100.0, 0.0)
        cols[f"source_{name}_hash"] = data[f"{prefix}_data_hash"].where(found, None)
    return cols


def _nan_problem(rows: pd.DataFrame) -> str | None:
    """Columns computed for every row must never be NaN (a broken formula, not missing data)."""
    bad = [c for c, nan in rows[list(NEVER_NULL)].isna().any().items() if nan]
    return f"NaN in computed column(s) {', '.join(bad)}" if bad else None


SPEC = ProcessorSpec(
    name=NAME,
    phase=4,
    output_table=OUTPUT,
    date_column="game_date",
    inputs=(
        InputSpec(CONTEXT, "same_date", columns=READ_COLUMNS[CONTEXT]),
        InputSpec(TEAM_DEFENSE, "same_date", columns=READ_COLUMNS[TEAM_DEFENSE]),
        InputSpec(SHOT_ZONE, "same_date", columns=READ_COLUMNS[SHOT_ZONE]),
        InputSpec(PLAYER_GAMES, "season_to_date", columns=READ_COLUMNS[PLAYER_GAMES]),
        InputSpec(SCHEDULE, "season_to_date", columns=READ_COLUMNS[SCHEDULE]),
    ),
    compute=compute,
    upstreams=("team_defense_zone_analysis", "player_shot_zone_analysis"),
    needs_context=True,
    bootstrap_skip=True,
    description="Per-player fatigue, shot-zone mismatch, pace and usage-spike adjustments for the players of D.",
)
