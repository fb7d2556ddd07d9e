"""Phase 4 `ml_feature_store`: one 25-feature vector per context player (spec §C).

Gathers, per player with a game on D, the same-date Phase 4 rows (daily cache, composite
factors, shot zones, the opponent's team defense), Phase 3 history aggregates and the
context row into one input frame, hands it to the pure formulas of `features.py`, and adds
completeness, source tracking and bookkeeping. Writes `nba_predictions.ml_feature_store_v2`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from data_processors.precompute.ml_feature_store.features import FEATURE_NAMES, feature_matrix, quality_from_codes
from data_processors.precompute.keyed_history import flags, floats, objects, pick, pick_rows
from data_processors.precompute.ml_feature_store.history import player_history, team_record
from nba_backfill.constants import BOOTSTRAP_DAYS, PRODUCTION_READY_PCT
from nba_backfill.dates import season_of
from nba_backfill.frames import read_declared, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec
from nba_backfill.rowcheck import contract_problem
from nba_backfill.tables import TableSpec, table

OUTPUT = "nba_predictions.ml_feature_store_v2"
CONTEXT = "nba_analytics.upcoming_player_game_context"
PGS = "nba_analytics.player_game_summary"
TEAM_OFFENSE = "nba_analytics.team_offense_game_summary"
SCHEDULE = "nba_raw.nbac_schedule"
DAILY_CACHE = "nba_precompute.player_daily_cache"
COMPOSITE = "nba_precompute.player_composite_factors"
SHOT_ZONE = "nba_precompute.player_shot_zone_analysis"
TEAM_DEFENSE = "nba_precompute.team_defense_zone_analysis"

FEATURE_VERSION = "v1_baseline_25"

HASH_FIELDS = (
    "player_lookup", "universal_player_id", "game_date", "game_id", "features", "feature_names",
    "feature_count", "feature_version", "feature_quality_score", "opponent_team_abbr", "is_home",
    "days_rest", "data_source", "early_season_flag", "insufficient_data_reason",
)


@dataclasses.dataclass(frozen=True)
class Upstream:
    """One same-date Phase 4 upstream and how its row is matched, named and reported."""

    table: str
    date_col: str
    row_key: str  # the upstream's entity column
    ctx_key: str  # the context column it is matched against
    prefix: str  # prefix of its columns in the joined player frame
    source: str  # source_<source>_* bookkeeping columns
    issue: str  # upstream_<issue>_missing / _incomplete
    cols: tuple[str, ...]

    @property
    def read_columns(self) -> tuple[str, ...]:
        return (self.row_key, self.date_col, *self.cols, "is_production_ready", "data_hash", "processed_at")


#: In the order of `data_quality_issues` (§C.8).
UPSTREAMS = (
    Upstream(DAILY_CACHE, "cache_date", "player_lookup", "player_lookup", "dc", "daily_cache", "player_daily_cache",
             ("points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10",
              "games_in_last_7_days", "minutes_avg_last_10", "team_pace_last_10", "team_off_rating_last_10")),
    Upstream(COMPOSITE, "game_date", "player_lookup", "player_lookup", "cf", "composite", "player_composite_factors",
             ("fatigue_score", "shot_zone_mismatch_score", "pace_score", "usage_spike_score")),
    Upstream(SHOT_ZONE, "analysis_date", "player_lookup", "player_lookup", "sz", "shot_zones", "player_shot_zone",
             ("paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10")),
    Upstream(TEAM_DEFENSE, "analysis_date", "team_abbr", "opponent_team_abbr", "td", "team_defense", "team_defense_zone",
             ("defensive_rating_last_15", "opponent_pace")),
)


#: Context text columns carried to the features and the output.
CONTEXT_TEXT = ("player_lookup", "universal_player_id", "game_id", "team_abbr", "opponent_team_abbr", "season_phase",
                "player_status")

#: Every column read, per input table (also the loader's column list in SPEC).
READ_COLUMNS: dict[str, tuple[str, ...]] = {
    CONTEXT: ("player_lookup", "universal_player_id", "game_id", "game_date", "team_abbr", "opponent_team_abbr",
              "home_game", "back_to_back", "season_phase", "days_rest", "opponent_days_rest", "player_status",
              "is_production_ready", "processed_at"),
    **{u.table: u.read_columns for u in UPSTREAMS},
    PGS: ("player_lookup", "universal_player_id", "game_id", "game_date", "season_year", "team_abbr", "points",
          "ft_makes", "minutes_played", "is_active", "processed_at"),
    TEAM_OFFENSE: ("game_id", "game_date", "team_abbr", "season_year", "win_flag", "processed_at"),
    SCHEDULE: ("game_id", "game_date", "season_year", "home_team_tricode", "away_team_tricode", "game_status",
               "is_regular_season", "is_playoffs"),
}


def compute(
    analysis_date: dt.date,
    inputs: Mapping[str, pd.DataFrame | list[dict[str, Any]]],
    run_timestamp: dt.datetime | None = None,
) -> ProcessorResult:
    """Feature rows for every context player of D, or the outcome that explains their absence."""
    frames = read_declared(inputs, SPEC.inputs)
    run_ts = resolve_run_timestamp(run_timestamp)
    out_table = table(OUTPUT)
    schedule = frames[SCHEDULE]
    opening = cv.opening_night(schedule, season_of(analysis_date))  # once: the history windows start there too
    if 0 <= (analysis_date - opening).days < BOOTSTRAP_DAYS:
        return cv.bootstrap_result(analysis_date, schedule, out_table)
    ctx_rows = context_rows(frames[CONTEXT], analysis_date)
    if not len(ctx_rows):
        return cv.no_context_result(analysis_date, schedule, out_table)
    players = player_inputs(frames[CONTEXT], frames, analysis_date, opening, rows=ctx_rows)
    values, codes = feature_matrix(players)
    score, source = quality_from_codes(codes)
    problem = vector_problem(players["player_lookup"], values)
    if problem is None:
        columns = assemble(players, values, score, source, analysis_date, run_ts, out_table)
        rows = cv.finalize_dict(columns, len(values), out_table, HASH_FIELDS)
        problem = contract_problem(rows, out_table)
        if problem is None and np.isnan(score).any():
            problem = "NaN feature_quality_score"
    if problem is not None:
        return ProcessorResult(rows=cv.empty_rows(out_table), outcome="FAILED", reason=problem)
    return ProcessorResult(rows=rows, outcome="COMPLETE", entities_eligible=len(rows))


def _on_date(dates: pd.Series, day: dt.date) -> np.ndarray:
    """Mask of the rows dated D (a NULL date is not D)."""
    values = dates.to_numpy()
    if values.dtype.kind == "M":
        return values == np.datetime64(day)
    return (dates == pd.Timestamp(day)).to_numpy(dtype=bool, na_value=False)


def context_rows(ctx: pd.DataFrame, day: dt.date) -> np.ndarray:
    """Positions of the context rows of D, one per player (latest), sorted by player_lookup."""
    pos = np.flatnonzero(_on_date(ctx["game_date"], day))
    players = objects(ctx["player_lookup"])[pos]
    codes, uniques = pd.factorize(players)
    if len(uniques) + bool((codes < 0).any()) < len(pos):  # a repeated player: the general rule
        sub = ctx.take(pos)
        pos = pos[sub.index.get_indexer(cv.dedup_latest(sub, "player_lookup").index)]
        players = objects(ctx["player_lookup"])[pos]
    if all(type(p) is str for p in players):
        return pos[np.argsort(players, kind="stable")]
    order = pd.Series(players, dtype=object).sort_values(kind="mergesort").index.to_numpy()
    return pos[order]


def player_inputs(
    ctx: pd.DataFrame, frames: Mapping[str, pd.DataFrame], day: dt.date, opening: dt.date | None = None,
    rows: np.ndarray | None = None,
) -> dict[str, Any]:
    """One entry per input of the features and bookkeeping: equal-length columns, one row per
    context player (`ctx`: the sorted context rows of D, or `ctx.take(rows)` when rows are given:
    taken column by column, which spares building that frame).

    Each source is matched to the context rows by key lookup (one row per key at most), which
    gives the same values as a chain of left merges at a fraction of the cost.
    """
    schedule = frames[SCHEDULE]
    own = np.arange(len(ctx)) if rows is None else rows
    cols: dict[str, Any] = {c: objects(ctx[c])[own] for c in CONTEXT_TEXT}
    for c in ("home_game", "back_to_back"):
        values = ctx[c].array.take(own)
        cols[c] = values if isinstance(values.dtype, pd.BooleanDtype) else pd.Series(values).astype("boolean").array
    cols.update({c: floats(ctx[c])[own] for c in ("days_rest", "opponent_days_rest")})
    cols["ctx_ready"] = flags(ctx["is_production_ready"])[own]
    for up in UPSTREAMS:
        df = frames[up.table]
        at = upstream_positions(df, up, day, cols[up.ctx_key])
        found = at >= 0
        for c in up.cols:
            cols[f"{up.prefix}_{c}"] = pick(floats(df[c]), at)
        cols[f"{up.prefix}_found"] = found
        cols[f"{up.prefix}_ready"] = found & pick(flags(df["is_production_ready"]), at, False)
        cols[f"{up.prefix}_hash"] = pick(objects(df["data_hash"]), at, None)
        cols[f"{up.prefix}_processed_at"] = pd.api.extensions.take(df["processed_at"].array, at, allow_fill=True)
    cols.update(player_history(cols, frames[PGS], day, schedule, opening))
    cols.update(team_record(frames[TEAM_OFFENSE], cols["team_abbr"], day, schedule, opening))
    return cols


def upstream_positions(df: pd.DataFrame, up: Upstream, day: dt.date, wanted: np.ndarray) -> np.ndarray:
    """Position in `df` of the upstream row dated D matching each wanted key (-1: none); of
    several rows with one key, the greatest processed_at (NULL oldest), then the first."""
    keys = objects(df[up.row_key])
    sel = np.flatnonzero(_on_date(df[up.date_col], day) & ~pd.isna(keys))
    texts = keys[sel].tolist()
    if all(type(k) is str for k in texts) and all(type(w) is str or w is None for w in wanted.tolist()):
        at = dict(zip(texts, range(len(texts))))  # text keys: a dict is the index lookup, cheaper at this size
        if len(at) == len(texts):
            return pick_rows(sel, np.fromiter(map(at.get, wanted.tolist(), [-1] * len(wanted)), "int64", len(wanted)))
    found = pd.Index(keys[sel], dtype=object)
    if not found.is_unique:
        codes, _ = pd.factorize(keys[sel])
        stamps, _ = pd.factorize(df["processed_at"].array.take(sel), sort=True)  # ranks; NULL -1, the oldest
        order = np.lexsort((np.arange(len(sel)), -stamps, codes))
        first = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
        sel = sel[order[first]]
        found = pd.Index(keys[sel], dtype=object)
    return pick_rows(sel, found.get_indexer(pd.Index(wanted, dtype=object)))


def assemble(
    players: Mapping[str, Any], values: np.ndarray, score: np.ndarray, source: list[str], day: dt.date,
    run_ts: pd.Timestamp, out_table: TableSpec,
) -> dict[str, Any]:
    """Output columns (unrounded, unhashed) from the joined inputs and the computed features."""
    n = len(values)
    cols: dict[str, Any] = {
        "player_lookup": players["player_lookup"],
        "universal_player_id": players["universal_player_id"],
        "game_date": [day] * n,
        "game_id": players["game_id"],
        "features": values.tolist(),
        "feature_names": [list(FEATURE_NAMES) for _ in range(n)],
        "feature_count": len(FEATURE_NAMES),
        "feature_version": FEATURE_VERSION,
        "feature_generation_time_ms": None,
        "feature_quality_score": score,
        "opponent_team_abbr": players["opponent_team_abbr"],
        "is_home": players["home_game"],
        "days_rest": players["days_rest"],
        "data_source": source,
        "early_season_flag": False,
        "insufficient_data_reason": None,
        "expected_games_count": players["expected"],
        "actual_games_count": players["actual"],
        "completeness_percentage": players["pct"],
        "missing_games_count": players["missing"],
        "updated_at": None,
    }
    ready = players["pct"] >= PRODUCTION_READY_PCT
    issues: list[list[str]] = [["own_data_incomplete"] if not ok else [] for ok in ready.tolist()]
    ctx_ready = players["ctx_ready"]
    ready &= ctx_ready
    for i in np.flatnonzero(~ctx_ready):
        issues[i].append("upstream_player_context_incomplete")
    for up in UPSTREAMS:
        p = up.prefix
        found = players[f"{p}_found"]
        up_ready = players[f"{p}_ready"]
        ready &= up_ready
        for i in np.flatnonzero(~up_ready):
            issues[i].append(f"upstream_{up.issue}_{'incomplete' if found[i] else 'missing'}")
        cols[f"source_{up.source}_last_updated"] = players[f"{p}_processed_at"]
        cols[f"source_{up.source}_rows_found"] = found.astype("int64")
        cols[f"source_{up.source}_completeness_pct"] = np.where(found, 100.0, 0.0)
        cols[f"source_{up.source}_hash"] = players[f"{p}_hash"]
    cols["is_production_ready"] = ready
    cols["data_quality_issues"] = issues
    cols.update(cv.bookkeeping(day, run_ts))
    for col in out_table.columns:  # INT64 as nullable Int64 (integers are not written as floats)
        value = cols.get(col.name)
        if col.base_type == "INT64" and not col.repeated and col.name in cols:
            cols[col.name] = cv.int64_array(value, n)
        elif col.base_type == "STRING" and isinstance(value, np.ndarray | pd.api.extensions.ExtensionArray):
            cols[col.name] = _text_column(value, n)  # object with None, as the inputs hold them
    return cols


def _text_column(values: np.ndarray | pd.api.extensions.ExtensionArray, n: int) -> pd.Series:
    """`conventions.text_column` of an array; directly when it holds only text and None (nothing to replace)."""
    if isinstance(values, np.ndarray) and values.dtype == object and len(values) == n:
        if set(map(type, values.tolist())) <= {str, type(None)}:
            return pd.Series(values, dtype=object)
    return cv.text_column(values, n)


def vector_problem(players: np.ndarray, values: np.ndarray) -> str | None:
    """Every feature vector must be 25 finite float64 numbers (checked before hashing)."""
    if values.shape[1:] != (len(FEATURE_NAMES),):
        return f"feature matrix has shape {values.shape}, expected (n, {len(FEATURE_NAMES)})"
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        return f"non-finite feature value for {players[bad][0]}"
    return None


def _spec_inputs() -> tuple[InputSpec, ...]:
    windows = {CONTEXT: "same_date", **{u.table: "same_date" for u in UPSTREAMS},
               PGS: "season_to_date", TEAM_OFFENSE: "season_to_date", SCHEDULE: "season_to_date"}
    return tuple(InputSpec(name, windows[name], columns=cols) for name, cols in READ_COLUMNS.items())


SPEC = ProcessorSpec(
    name="ml_feature_store",
    phase=4,
    output_table=OUTPUT,
    date_column="game_date",
    inputs=_spec_inputs(),
    compute=compute,
    upstreams=(
        "team_defense_zone_analysis", "player_shot_zone_analysis", "player_composite_factors", "player_daily_cache",
    ),
    needs_context=True,
    bootstrap_skip=True,
    description="25-feature vector per player with a game on D, with provenance tags and a quality score",
)
