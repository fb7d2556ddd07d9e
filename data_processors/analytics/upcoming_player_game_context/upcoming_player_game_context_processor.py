"""Phase 3 processor: the pre-game context of every player with a points prop on D (spec phase3-upcoming-player-game-context.md).

The universe is Odds API ∪ BettingPros, decided per player (resolve.py); this module adds the
context columns, rounds and hashes the rows, and maps the Phase 3 outcome to a unit state.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute.conventions import empty_rows, finalize, int64_array, opening_night
from nba_backfill.constants import BOOTSTRAP_DAYS, COVERAGE_MIN_PCT
from nba_backfill.dates import season_of
from nba_backfill.frames import resolve_run_timestamp
from nba_backfill.processor import ProcessorResult, ProcessorSpec
from nba_backfill.rowcheck import contract_problem
from nba_backfill.tables import table
from nba_backfill.values import round_half_away

from .context import ages, dedup, in_season, player_history, universal_ids
from .games import team_games_before
from .resolve import INPUTS, PLAYER_LIST, REGISTRY, SCHEDULE, TEAM_DEFENSE, TEAM_OFFENSE, Resolution, details, input_frames, resolve
from .resolve import BETTINGPROS, ODDS, PGS  # noqa: F401  (input table names, re-exported for callers)
from .teams import absent_stars, completeness, defense_window, offense_pace, star_columns

OUTPUT = "nba_analytics.upcoming_player_game_context"

_CIRCUIT_BREAKER = ("last_reprocess_attempt_at", "reprocess_attempt_count", "circuit_breaker_active", "circuit_breaker_until", "manual_override_required")
_QUALITY = ("quality_tier", "quality_score", "quality_issues", "data_sources", "quality_sample_size", "quality_used_fallback", "quality_reconstructed", "quality_calculated_at", "quality_metadata")
_ISSUE_ORDER = ("team_from_registry", "team_from_history", "bettingpros_team_mismatch", "multiple_games", "no_season_history", "thin_history", "upstream_incomplete", "no_birth_date", "no_universal_id")

#: Unit state per Phase 3 outcome (backfill-engine.md §3); `partial` may become DEGRADED.
UNIT_STATE = {"ok": "COMPLETE", "partial": "COMPLETE", "no_games": "NO_GAMES", "no_props": "NO_SOURCE_DATA", "unresolved": "FAILED", "error": "FAILED"}


def hash_fields() -> list[str]:
    """data_hash fields (spec §4.9): contract order minus bookkeeping, source_*, quality and circuit-breaker columns."""
    skip = {"data_hash", "created_at", "processed_at", *_CIRCUIT_BREAKER, *_QUALITY}
    return [c for c in table(OUTPUT).column_names if c not in skip and not c.startswith("source_")]


def _season_phase(game_type: str, day: dt.date) -> str:
    if game_type in ("4", "5"):
        return "playoffs"
    if day.month in (10, 11):
        return "early"
    if day.month in (12, 1, 2):
        return "mid"
    return "late"


def _context_rows(res: Resolution, frames: dict[str, pd.DataFrame], run_ts: pd.Timestamp) -> pd.DataFrame:
    """Step 5: every column of §4 for the placed players, unrounded, in no particular order."""
    day, season = res.day, season_of(res.day)
    stamp = pd.Timestamp(day)
    schedule = frames[SCHEDULE]
    opening = opening_night(schedule, season)
    placed = res.placed
    teams = sorted(set(placed["team"]) | set(placed["opp"]))

    season_rows = in_season(res.recent, season, opening, day)
    history = dedup(season_rows, "player_lookup")
    hist = player_history(history, placed.index, day).reindex(placed.index)
    tg = team_games_before(res.all_games, day, season)
    tg = tg[tg["team"].isin(teams)]
    pace = offense_pace(in_season(frames[TEAM_OFFENSE], season, opening, day), teams)
    defense = defense_window(in_season(frames[TEAM_DEFENSE], season, opening, day), teams).reindex(teams)
    comp = completeness(tg, season_rows, sorted(set(placed["team"])), day)
    out_stars, has_data = absent_stars(history, tg, sorted(set(placed["team"])))
    last_date = tg.drop_duplicates("team").set_index("team")["game_date"]

    team, opp = placed["team"], placed["opp"]
    out: dict[str, Any] = {}  # one frame built at the end: adding ~120 columns one by one is slow
    out["player_lookup"] = placed.index
    out["universal_player_id"] = universal_ids(placed, frames[REGISTRY], res.recent, season)
    out["game_id"] = placed["sid"]
    out["game_date"] = stamp
    out["team_abbr"], out["opponent_team_abbr"] = team, opp
    out["current_points_line"] = placed["current_line"].astype("float64")
    out["opening_points_line"] = placed["opening_line_value"].astype("float64")
    out["line_movement"] = out["current_points_line"] - out["opening_points_line"]
    out["current_points_line_source"] = placed["current_source"]
    out["opening_points_line_source"] = placed["opening_source"]
    opp_pace = opp.map(pace).astype("float64")
    out["pace_differential"] = opp_pace - team.map(pace).astype("float64")
    out["opponent_pace_last_10"] = opp_pace
    out["opponent_ft_rate_allowed"] = opp.map(defense["ft_rate"]).astype("float64")
    out["opponent_def_rating_last_10"] = opp.map(defense["def_rating"]).astype("float64")
    out["home_game"] = placed["home_game"].astype(bool)
    out["season_phase"] = [_season_phase(t, day) for t in placed["game_type"]]
    out.update({col: hist[col] for col in hist.columns if col not in ("n_appearances", "n30")})
    stars = star_columns(placed, out_stars, has_data, hist["avg_usage_rate_last_7_games"])
    out.update({col: stars[col] for col in stars.columns})
    opp_last = pd.Series(last_date.reindex(opp.to_numpy()).to_numpy(), index=opp.index, dtype="datetime64[ns]")
    out["opponent_days_rest"] = (stamp - opp_last).dt.days
    out["player_age"] = ages(placed.index, frames[PLAYER_LIST], day)
    out["player_status"] = "available"
    today = res.all_games[res.all_games["game_date"] == stamp]
    out["source_schedule_last_updated"] = today["processed_at"].max()
    out["source_schedule_rows_found"] = float(len(res.games))
    out["source_props_last_updated"] = pd.to_datetime(placed["props_last_updated"], utc=True)
    out["source_props_rows_found"] = placed["props_rows"].astype("float64")
    n30 = hist["n30"]
    out["data_quality_tier"] = np.where(n30 >= 10, "high", np.where(n30 >= 5, "medium", "low"))
    out["primary_source_used"] = "player_game_summary"
    by_team = comp.reindex(team.to_numpy())
    out.update({col: by_team[col].set_axis(placed.index) for col in comp.columns})
    out["season_boundary_detected"] = day.month in (10, 11, 4)
    out["backfill_bootstrap_mode"] = 0 <= (day - opening).days <= BOOTSTRAP_DAYS - 1
    out["processing_decision_reason"] = "processed_successfully"
    out["context_version"] = 1.0
    out["created_at"] = out["processed_at"] = run_ts
    out["has_prop_line"] = True
    flags = {
        "no_season_history": (hist["n_appearances"] == 0).to_numpy(),
        "thin_history": ((hist["n_appearances"] > 0) & (n30 < 3)).to_numpy(),
        "upstream_incomplete": ~out["is_production_ready"].astype(bool).to_numpy(),
        "no_birth_date": out["player_age"].isna().to_numpy(),
        "no_universal_id": out["universal_player_id"].isna().to_numpy(),
    }
    raised = [[f for f, on in zip(flags, row) if on] for row in zip(*flags.values())]
    issues = []
    for placed_issues, row_flags in zip(placed["issues"], raised):
        found = set(placed_issues) | set(row_flags)
        issues.append([i for i in _ISSUE_ORDER if i in found])
    out["data_quality_issues"] = issues
    out["processed_with_issues"] = [bool(i) for i in issues]
    return pd.DataFrame(out, index=placed.index)


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """INT64 as nullable Int64, BOOLEAN as nullable boolean, DATE/TIMESTAMP as datetime64[ns] (values unchanged).

    Columns already of their dtype are left alone (an astype per column is costly); an
    all-NULL INT64 column is built directly.
    """
    dtypes: dict[str, str] = {}
    for col in table(OUTPUT).columns:
        if col.repeated:
            continue
        if col.base_type == "INT64":
            dtypes[col.name] = "Int64"
        elif col.base_type in ("BOOL", "BOOLEAN"):
            dtypes[col.name] = "boolean"
        elif col.base_type == "TIMESTAMP":
            dtypes[col.name] = "datetime64[ns, UTC]"
        elif col.base_type == "DATE":
            dtypes[col.name] = "datetime64[ns]"
    todo = {c: t for c, t in dtypes.items() if str(rows[c].dtype) != t}
    n = len(rows)
    built = {c: int64_array(rows[c], n) for c, t in todo.items() if t == "Int64" and rows[c].dtype == np.float64}
    for c, t in todo.items():
        if c not in built:
            fast = _masked(rows[c].to_numpy(), t, n)
            if fast is not None:
                built[c] = fast
    # The rest one column at a time: DataFrame.astype(dict) rebuilds every column of the frame.
    built.update({c: rows[c].astype(t) for c, t in todo.items() if c not in built})
    return rows.assign(**built)


def _masked(values: np.ndarray, target: str, n: int) -> Any:
    """The nullable array of a plain bool / int64 / all-NaN float column, built directly (astype is slow); None otherwise."""
    if target == "boolean" and values.dtype == np.bool_:
        return pd.arrays.BooleanArray(values, np.zeros(n, dtype=bool))
    if target == "Int64" and values.dtype == np.int64:
        return pd.arrays.IntegerArray(values, np.zeros(n, dtype=bool))
    if target == "boolean" and values.dtype == np.float64 and np.isnan(values).all():
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    return None


def _result(res: Resolution, rows: pd.DataFrame) -> ProcessorResult:
    """Map the Phase 3 outcome to the unit state and attach the result object."""
    info = details(res, len(rows))
    universe = len(res.universe)
    state, reason, warnings = UNIT_STATE[res.outcome], None, []
    if res.outcome in ("ok", "partial"):
        info["rows_with_issues"] = int(sum(bool(i) for i in rows["data_quality_issues"]))
        info["message"] = f"{len(rows)} players (odds_api {info['chosen_odds_api']}, bettingpros {info['chosen_bettingpros']}; unresolved {len(res.unresolved)})"
        coverage = 100.0 * len(rows) / universe
        if coverage < COVERAGE_MIN_PCT:
            state, reason = "DEGRADED", f"coverage {round_half_away(coverage, 1):.1f}% below {COVERAGE_MIN_PCT:g}%"
        if res.unresolved:
            shown = ", ".join(f"{u['player_lookup']} ({u['reason']})" for u in res.unresolved[:10])
            warnings.append(f"{len(res.unresolved)} unresolved: {shown}")
    else:
        reason = res.message
        rows = empty_rows(table(OUTPUT))
    return ProcessorResult(rows=rows, outcome=state, reason=reason, details=info, entities_eligible=universe, warnings=warnings)


def compute(analysis_date: dt.date, inputs: Mapping[str, Any], run_timestamp: dt.datetime | None = None) -> ProcessorResult:
    """Rows of `upcoming_player_game_context` for D, or the empty outcome that explains their absence."""
    frames = input_frames(inputs)
    run_ts = resolve_run_timestamp(run_timestamp)
    res = resolve(analysis_date, frames)
    if res.outcome not in ("ok", "partial"):
        return _result(res, empty_rows(table(OUTPUT)))
    rows = finalize(_context_rows(res, frames, run_ts), table(OUTPUT), hash_fields())
    rows = _typed(rows.sort_values(["game_id", "player_lookup"], kind="mergesort").reset_index(drop=True))
    problem = contract_problem(rows, table(OUTPUT))
    if problem:
        failed = _result(res, rows)
        return ProcessorResult(
            rows=empty_rows(table(OUTPUT)), outcome="FAILED", reason=problem, details={**failed.details, "outcome": "error", "message": problem}, entities_eligible=failed.entities_eligible
        )
    return _result(res, rows)


SPEC = ProcessorSpec(
    name="upcoming_player_game_context",
    phase=3,
    output_table=OUTPUT,
    date_column="game_date",
    inputs=INPUTS,
    compute=compute,
    upstreams=(),
    needs_context=False,
    bootstrap_skip=False,
    description="Pre-game context of every player with a points prop (Odds API, else BettingPros per player).",
)
