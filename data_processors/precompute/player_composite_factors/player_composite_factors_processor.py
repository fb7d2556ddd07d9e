"""Phase 4 `player_composite_factors`: one row of adjustment factors per player with a game on D.

Spec: phase4-composite-cache-features.md §0 and §A (shared conventions: phase4-zone-analysis.md
Part 1). The factor formulas live in `factors.py`, the context JSON in `context_json.py`, the
player history and completeness in `player_history.py`; this module selects the same-date rows,
joins the upstream rows, assembles the contract row and decides the outcome.

compute() runs once per date on season-to-date frames, so it works on numpy arrays taken once
per column (positions instead of filtered frames, one factorization per join) and builds a
single output frame at the end.
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
    dedup_latest,
    empty_rows,
    finalize_dict,
    no_context_result,
    opening_night,
)
from data_processors.precompute.keyed_history import take_filled
from data_processors.precompute.player_composite_factors import factors as f
from data_processors.precompute.player_composite_factors.context_json import JsonInputs, context_json_columns
from data_processors.precompute.player_composite_factors.player_history import history_facts
from nba_backfill.constants import BOOTSTRAP_DAYS, PRODUCTION_READY_PCT
from nba_backfill.dates import season_of
from nba_backfill.frames import as_timestamp, read_declared, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec
from nba_backfill.tables import table
from nba_backfill.values import round_half_away_array

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
    opening = opening_night(schedule, season_of(analysis_date))  # once: bootstrap and the history window
    if 0 <= (analysis_date - opening).days < BOOTSTRAP_DAYS:
        return bootstrap_result(analysis_date, schedule, out_table)
    at = context_positions(frames[CONTEXT], analysis_date)
    if not len(at):
        return no_context_result(analysis_date, schedule, out_table)
    try:
        rows, problem = build_rows(at, frames, analysis_date, resolve_run_timestamp(run_timestamp), opening)
    except NonFiniteInput as exc:
        return ProcessorResult(rows=empty_rows(out_table), outcome="FAILED", reason=str(exc))
    rows = finalize_dict(rows, len(at), out_table, HASH_FIELDS)
    return checked_result(rows, out_table, eligible=len(rows), problem=problem)


def _on_day(dates: pd.Series, day: dt.date) -> np.ndarray:
    """Mask of the rows dated D (a DATE column, normalized to naive datetime64)."""
    values = dates.to_numpy()
    if values.dtype == np.dtype("datetime64[ns]"):
        return values == as_timestamp(day).to_datetime64()
    return (dates == as_timestamp(day)).to_numpy(dtype=bool)


def context_positions(ctx: pd.DataFrame, day: dt.date) -> np.ndarray:
    """Positions of the context rows of D, one per player (greatest processed_at, then greatest
    game_id), in frame order."""
    at = np.flatnonzero(_on_day(ctx["game_date"], day))
    if pd.Index(ctx["player_lookup"].to_numpy(dtype=object)[at], dtype=object).is_unique:
        return at
    rows = ctx.take(at)
    return ctx.index.get_indexer(dedup_latest(rows, "player_lookup").index)


def latest_same_date(df: pd.DataFrame, key: str, day: dt.date) -> pd.DataFrame:
    """A Phase 4 table's rows for D, one per key (greatest processed_at; NULL oldest)."""
    rows = df[df["analysis_date"] == as_timestamp(day)]
    if not rows[key].duplicated().any():
        return rows
    order = rows.assign(_p=rows["processed_at"].notna()).sort_values(
        ["_p", "processed_at"], ascending=False, na_position="last", kind="mergesort"
    )
    return order.drop_duplicates(subset=[key], keep="first").drop(columns="_p")


def _match(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray | None:
    """For each wanted value, the position of the equal value among `keys`, else -1; None unless
    the keys are distinct and non-NULL (one factorization of both, keys first: their codes are
    then their positions)."""
    k = len(keys)
    codes, _ = pd.factorize(np.concatenate([keys, wanted]))
    if not np.array_equal(codes[:k], np.arange(k)):
        return None
    at = codes[k:]
    return np.where(at < k, at, -1)


def _upstream_positions(df: pd.DataFrame, key: str, wanted: np.ndarray, day: dt.date) -> np.ndarray:
    """Position in `df` of each wanted key's row for D (the latest when repeated), -1 when absent:
    what a left join of the context rows to that upstream gives (NULL finds NULL)."""
    at = np.flatnonzero(_on_day(df["analysis_date"], day))
    keys = df[key].to_numpy(dtype=object)
    found = _match(keys[at], wanted)
    if found is None:  # repeated or NULL keys: the latest row per key, then the join's own look-up
        if not pd.Index(keys[at], dtype=object).is_unique:
            at = df.index.get_indexer(latest_same_date(df, key, day).index)
        found = pd.Index(keys[at]).get_indexer(wanted)  # an inferred (text) Index: NULL finds NULL
    return np.where(found >= 0, at[found] if len(at) else -1, -1)


def _upstream(df: pd.DataFrame, prefix: str, pos: np.ndarray, columns: tuple[str, ...]) -> dict[str, Any]:
    """The upstream columns read, as `{prefix}_{column}` arrays aligned with the context rows:
    numbers NaN, text None and flags FALSE where the row is absent; processed_at keeps its dtype."""
    out: dict[str, Any] = {f"{prefix}_found": pos >= 0}
    for c in columns:
        series = df[c]
        if c == "is_production_ready":
            out[f"{prefix}_{c}"] = take_filled(f.flags(series), pos, False)
        elif c == "processed_at":
            out[f"{prefix}_{c}"] = series.array.take(pos, allow_fill=True)
        elif c in UPSTREAM_TEXT:
            out[f"{prefix}_{c}"] = take_filled(series.to_numpy(dtype=object), pos, None)
        else:
            out[f"{prefix}_{c}"] = take_filled(f.floats(series), pos, np.nan)
    return out


#: Upstream columns read besides the key and analysis_date.
SHOT_COLUMNS = tuple(c for c in READ_COLUMNS[SHOT_ZONE] if c not in ("player_lookup", "analysis_date"))
DEFENSE_COLUMNS = tuple(c for c in READ_COLUMNS[TEAM_DEFENSE] if c not in ("team_abbr", "analysis_date"))
#: Upstream columns taken as text (object arrays, None where absent).
UPSTREAM_TEXT = ("primary_scoring_zone", "weakest_zone", "data_hash")
#: Context columns taken as text (object arrays); the others are numbers, flags or timestamps.
CONTEXT_TEXT = ("player_lookup", "universal_player_id", "game_id", "team_abbr", "opponent_team_abbr")


def _context_columns(ctx: pd.DataFrame, at: np.ndarray) -> dict[str, Any]:
    """The context columns read, at the selected rows (text as object arrays, numbers float64)."""
    out: dict[str, Any] = {c: ctx[c].to_numpy(dtype=object)[at] for c in CONTEXT_TEXT}
    for column, _ in f.CONTEXT_DEFAULTS.values():
        out[column] = f.floats(ctx[column])[at]
    out["back_to_back"] = f.flags(ctx["back_to_back"])[at]
    out["is_production_ready"] = f.flags(ctx["is_production_ready"])[at]
    out["processed_at"] = ctx["processed_at"].array.take(at)
    return out


def _with_upstreams(at: np.ndarray, frames: Mapping[str, pd.DataFrame], day: dt.date) -> dict[str, Any]:
    """Context columns joined to the player's shot-zone row (shot_*) and the opponent's defense row (def_*)."""
    data = _context_columns(frames[CONTEXT], at)
    shot_at = _upstream_positions(frames[SHOT_ZONE], "player_lookup", data["player_lookup"], day)
    def_at = _upstream_positions(frames[TEAM_DEFENSE], "team_abbr", data["opponent_team_abbr"], day)
    return data | _upstream(frames[SHOT_ZONE], "shot", shot_at, SHOT_COLUMNS) | _upstream(
        frames[TEAM_DEFENSE], "def", def_at, DEFENSE_COLUMNS
    )


def build_rows(
    at: np.ndarray, frames: Mapping[str, pd.DataFrame], day: dt.date, run_ts: pd.Timestamp, opening: dt.date
) -> tuple[dict[str, Any], str | None]:
    """Every output column for the context rows at `at` (one value per row, or a constant), and
    the NaN problem if any (§A.9); labels already use the stored (rounded) scores. `opening` is
    the season's opening night."""
    data = _with_upstreams(at, frames, day)
    n = len(at)
    facts = history_facts(data, frames[PLAYER_GAMES], frames[SCHEDULE], day, opening)
    used = f.factor_inputs(data)
    penalties, bonus = f.fatigue_flags(used)
    fatigue = f.fatigue_score(penalties, bonus)
    zones = f.zone_used(data["shot_primary_scoring_zone"])
    usage_rate = f.pick_by_zone(_unprefixed(data, "shot_"), zones, 0, f.ZONE_USAGE_DEFAULT)
    dv = f.pick_by_zone(_unprefixed(data, "def_"), zones, 1, f.ZONE_DEFENSE_DEFAULT)
    _check_finite(used, usage_rate, dv)
    zone = f.zone_mismatch(usage_rate, dv, data["shot_found"] & data["def_found"])
    pace = f.pace_score(used["pace_differential"])
    usage = f.usage_spike(used["projected_usage_rate"], used["avg_usage_last_7"], used["star_teammates_out"])
    total = f.total_adjustment(fatigue, zone, pace, usage)
    tenths = round_half_away_array(np.concatenate([zone, pace, usage]), 1)  # one call for the three NUMERIC(·,1)
    stored = {"zone": tenths[:n], "pace": tenths[n : 2 * n], "usage": tenths[2 * n :]}
    stored["total"] = round_half_away_array(total, 2)
    warnings = f.warning_details(fatigue, stored["zone"], stored["total"])
    checks = np.column_stack(
        [~np.isnan(data[col]) if col in CONTEXT_CHECKS else data[col] for _, col in COMPLETENESS_CHECKS]
    )
    names = [name for name, _ in COMPLETENESS_CHECKS]
    missing = {k: ", ".join(nm for nm, ok in zip(names, f.bits(k, len(names))) if not ok) or None for k in range(32)}
    json_cols = context_json_columns(JsonInputs(data, used, penalties, bonus, fatigue, zones, usage_rate, dv, stored))
    columns = {
        "player_lookup": pd.Series(data["player_lookup"], dtype=object, copy=False),
        "universal_player_id": pd.Series(facts["universal_player_id"], dtype=object, copy=False),
        "game_date": day,
        "game_id": pd.Series(data["game_id"], dtype=object, copy=False),
        "analysis_date": day,
        "fatigue_score": fatigue,
        "shot_zone_mismatch_score": stored["zone"],
        "pace_score": stored["pace"],
        "usage_spike_score": stored["usage"],
        **{name: 0.0 for name in DEFERRED_FACTORS},
        "total_composite_adjustment": stored["total"],
        **json_cols,
        "calculation_version": CALCULATION_VERSION,
        "data_completeness_pct": checks.sum(axis=1).astype("float64") / len(COMPLETENESS_CHECKS) * 100,
        "missing_data_fields": [missing[k] for k in f.bitmask(checks).tolist()],
        "has_warnings": np.array([w is not None for w in warnings], dtype=bool),
        "warning_details": warnings,
        **_source_columns(data, n),
        "early_season_flag": False,
        "insufficient_data_reason": None,
        **{c: facts[c] for c in COMPLETENESS_COLUMNS},
        **_readiness(data, facts["completeness_percentage"]),
        **bookkeeping(day, run_ts),
    }
    return columns, _nan_problem(columns)


def _unprefixed(data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The columns of one joined upstream under their own names."""
    return {c[len(prefix):]: v for c, v in data.items() if c.startswith(prefix)}


class NonFiniteInput(ValueError):
    """A factor input is ±Inf: no default applies (only NULL/NaN have one), so the date fails."""


#: Names of the zone picks in the finite check's message (the labels the former column concat gave them).
_PICK_NAMES = ("0", "1")


def _check_finite(used: Mapping[str, np.ndarray], usage_rate: np.ndarray, dv: np.ndarray) -> None:
    """±Inf in a factor input would reach a clamp or the JSON: refuse the date instead."""
    values = {name: v for name, v in used.items() if name != "back_to_back"}
    values |= dict(zip(_PICK_NAMES, (usage_rate, dv)))
    bad = sorted(name for name, v in values.items() if not np.isfinite(v).all())
    if bad:
        raise NonFiniteInput(f"non-finite factor input in {', '.join(bad)}")


def _readiness(data: Mapping[str, Any], pct: np.ndarray) -> dict[str, Any]:
    """is_production_ready (own completeness >= 90, context, shot-zone and opponent defense rows
    present and ready) and data_quality_issues in the order of §A.9."""
    own = pct >= PRODUCTION_READY_PCT
    context = data["is_production_ready"]
    shot = data["shot_found"] & data["shot_is_production_ready"]
    defense = data["def_found"] & data["def_is_production_ready"]
    state = np.column_stack([own, context, shot, data["shot_found"], defense, data["def_found"]])
    memo: dict[int, tuple[str, ...]] = {}
    issues: list[list[str]] = []
    for k in f.bitmask(state).tolist():
        if k not in memo:
            memo[k] = _issue_codes(*f.bits(k, 6))
        issues.append(list(memo[k]))
    return {"is_production_ready": own & context & shot & defense, "data_quality_issues": issues}


def _issue_codes(
    own: bool, context: bool, shot: bool, shot_found: bool, defense: bool, def_found: bool
) -> tuple[str, ...]:
    """The issue codes of one readiness pattern (§0.4)."""
    issues = [] if own else ["own_data_incomplete"]
    if not context:
        issues.append("upstream_player_context_incomplete")
    for ready, found, name in ((shot, shot_found, "player_shot_zone"), (defense, def_found, "team_defense_zone")):
        if not ready:
            issues.append(f"upstream_{name}_{'incomplete' if found else 'missing'}")
    return tuple(issues)


def _source_columns(data: Mapping[str, Any], n: int) -> dict[str, Any]:
    """Source tracking (§1.9): context row, shot-zone row, opponent defense row; team context unread."""
    cols: dict[str, Any] = {
        "source_player_context_last_updated": pd.Series(data["processed_at"]),
        "source_player_context_rows_found": np.ones(n, dtype="int64"),
        "source_player_context_completeness_pct": 100.0,
        "source_team_context_last_updated": pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype="datetime64[ns, UTC]"),
        "source_team_context_rows_found": pd.Series(pd.arrays.IntegerArray(np.zeros(n, "int64"), np.ones(n, bool))),
        "source_team_context_completeness_pct": np.nan,
        "source_player_context_hash": None,
        "source_team_context_hash": None,
    }
    for prefix, name in (("shot", "player_shot"), ("def", "team_defense")):
        found = data[f"{prefix}_found"]
        cols[f"source_{name}_last_updated"] = pd.Series(data[f"{prefix}_processed_at"])
        cols[f"source_{name}_rows_found"] = found.astype("int64")
        cols[f"source_{name}_completeness_pct"] = np.where(found, 100.0, 0.0)
        cols[f"source_{name}_hash"] = pd.Series(data[f"{prefix}_data_hash"], dtype=object)
    return cols


def _nan_problem(columns: Mapping[str, Any]) -> str | None:
    """Columns computed for every row must never be NaN (a broken formula, not missing data);
    rounding in `finalize` keeps NaN-ness, so the unrounded columns tell."""
    bad = [c for c in NEVER_NULL if np.any(pd.isna(columns[c]))]
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
