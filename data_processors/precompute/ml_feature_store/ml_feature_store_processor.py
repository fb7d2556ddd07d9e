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
from data_processors.precompute.ml_feature_store.features import FEATURE_NAMES, compute_features, quality_and_source
from nba_backfill.constants import ML_MIN_RECENT_GAMES, PLAYER_COMPLETENESS_WINDOW_GAMES
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
L_WINDOW = 10  # L = the newest <= 10 active games (§C.3)

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
    boot = cv.bootstrap_result(analysis_date, schedule, out_table)
    if boot is not None:
        return boot
    day = pd.Timestamp(analysis_date)
    ctx = frames[CONTEXT]
    ctx = cv.dedup_latest(ctx[ctx["game_date"] == day], "player_lookup")
    if ctx.empty:
        return cv.no_context_result(analysis_date, schedule, out_table)
    ctx = ctx.sort_values("player_lookup", kind="mergesort").reset_index(drop=True)

    players = player_inputs(ctx, frames, analysis_date)
    values, tags = compute_features(players)
    score, source = quality_and_source(tags)
    problem = vector_problem(players["player_lookup"], values)
    if problem is None:
        rows = cv.finalize(assemble(players, values, score, source, analysis_date, run_ts, out_table), out_table, HASH_FIELDS)
        problem = contract_problem(rows, out_table)
        if problem is None and rows["feature_quality_score"].isna().any():
            problem = "NaN feature_quality_score"
    if problem is not None:
        return ProcessorResult(rows=cv.empty_rows(out_table), outcome="FAILED", reason=problem)
    return ProcessorResult(rows=rows, outcome="COMPLETE", entities_eligible=len(rows))


def _take(values: pd.Series, positions: np.ndarray) -> Any:
    """values[positions] with NULL (NaN, NaT, <NA>) where the position is -1, like a left merge."""
    return pd.api.extensions.take(values.array, positions, allow_fill=True)


def player_inputs(ctx: pd.DataFrame, frames: Mapping[str, pd.DataFrame], day: dt.date) -> pd.DataFrame:
    """One row per context player with every input of the features and bookkeeping columns.

    Each source is matched to the context rows by key lookup (one row per key at most), which
    gives the same columns as a chain of left merges at a fraction of the cost.
    """
    schedule = frames[SCHEDULE]
    cols: dict[str, Any] = {c: ctx[c].array for c in ctx.columns}
    for up in UPSTREAMS:
        found = upstream_rows(frames[up.table], up, day)
        at = pd.Index(found[up.row_key]).get_indexer(ctx[up.ctx_key])
        for c in (*up.cols, "is_production_ready", "data_hash", "processed_at"):
            cols[f"{up.prefix}_{c}"] = _take(found[c], at)
        cols[f"{up.prefix}_found"] = at >= 0
    pgs = frames[PGS]
    hist = cv.history(pgs[pgs["player_lookup"].isin(ctx["player_lookup"])], "player_lookup", day, schedule)
    agg = history_aggregates(hist)
    at = agg.index.get_indexer(ctx["player_lookup"])
    cols.update({c: _take(agg[c], at) for c in agg.columns})
    record = team_record(frames[TEAM_OFFENSE], set(ctx["team_abbr"].dropna()), day, schedule)
    at = record.index.get_indexer(ctx["team_abbr"])
    cols.update({c: _take(record[c], at) for c in record.columns})
    out = pd.DataFrame(cols, index=ctx.index)
    upid = out["universal_player_id"].where(out["universal_player_id"].notna(), out["h_upid"]).astype(object)
    out["universal_player_id"] = upid.where(upid.notna(), None)
    team = out["h_team"].where(out["h_team"].notna(), out["team_abbr"])
    comp = cv.completeness(
        pd.DataFrame({"entity": ctx["player_lookup"], "team": team}),
        hist[["player_lookup", "game_date"]].rename(columns={"player_lookup": "entity"}),
        cv.team_final_dates(schedule, day),
        day=day,
        last_games=PLAYER_COMPLETENESS_WINDOW_GAMES,
    )
    return out.assign(completeness_team=team, **{c: comp[c].to_numpy() for c in comp.columns})


def upstream_rows(df: pd.DataFrame, up: Upstream, day: dt.date) -> pd.DataFrame:
    """The upstream's rows dated D, one per key (greatest processed_at)."""
    key = up.row_key
    rows = df[(df[up.date_col] == pd.Timestamp(day)) & df[key].notna()]
    if rows[key].duplicated().any():
        rows = rows.sort_values("processed_at", ascending=False, na_position="last", kind="mergesort")
        rows = rows.drop_duplicates(subset=[key], keep="first")
    return rows


def _group_starts(codes: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal codes (rows grouped contiguously)."""
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.empty(0, dtype="int64")


def history_aggregates(hist: pd.DataFrame) -> pd.DataFrame:
    """Per player: id/team fallbacks from H(P) and the Phase 3 aggregates over active games and L.

    `hist` is `conventions.history` output (grouped by player, newest first). Everything is one
    numpy pass over integer player codes; a mean is the sum of the non-NULL values over their
    count (NaN when there are none).
    """
    codes, players = pd.factorize(hist["player_lookup"])
    n = len(players)
    starts = _group_starts(codes)
    upid = hist["universal_player_id"].to_numpy(dtype=object)
    has_id = hist["universal_player_id"].notna().to_numpy()
    id_starts = _group_starts(codes[has_id])
    agg = pd.DataFrame({"h_team": hist["team_abbr"].to_numpy(dtype=object)[starts]}, index=players)
    agg["h_upid"] = pd.Series(upid[has_id][id_starts], index=players[codes[has_id][id_starts]], dtype=object)

    active = (hist["is_active"].fillna(False).astype(bool) & (hist["minutes_played"].fillna(0) > 0)).to_numpy()
    ac = codes[active]
    a_starts = _group_starts(ac)
    rank = np.arange(len(ac)) - np.repeat(a_starts, np.diff(np.r_[a_starts, len(ac)]))
    pts = hist["points"].to_numpy(dtype="float64")[active]
    mins = hist["minutes_played"].to_numpy(dtype="float64")[active]
    ft = hist["ft_makes"].to_numpy(dtype="float64")[active]
    in_l, in_5 = rank < L_WINDOW, rank < ML_MIN_RECENT_GAMES

    def total(values: np.ndarray, mask: np.ndarray | bool = True) -> np.ndarray:
        return np.bincount(ac, weights=np.where(mask, np.nan_to_num(values), 0.0), minlength=n)

    def mean(values: np.ndarray, mask: np.ndarray | bool = True) -> np.ndarray:
        count = np.bincount(ac, weights=(mask & ~np.isnan(values)).astype("float64"), minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(count > 0, total(values, mask & ~np.isnan(values)) / count, np.nan)

    games5 = np.bincount(ac, weights=in_5.astype("float64"), minlength=n)
    stats = pd.DataFrame(
        {
            "p3_last5": np.where(games5 >= ML_MIN_RECENT_GAMES, mean(pts, in_5), np.nan),
            "p3_last10": mean(pts, in_l),
            "p3_season": mean(pts),
            "p3_minutes_season": mean(mins),
            "l_games": np.bincount(ac, weights=in_l.astype("float64"), minlength=n),
            "l_minutes_mean": mean(mins, in_l),
            "l_points_sum": total(pts, in_l),
            "l_ft_sum": total(ft, in_l),
            "trend_a": mean(pts, rank < 3),
            "trend_b": mean(pts, in_5 & (rank >= 3)),
        },
        index=players,
    )
    return agg.join(stats)


def team_record(team_off: pd.DataFrame, teams: set[str], day: dt.date, schedule: pd.DataFrame) -> pd.DataFrame:
    """Per team: in-season de-duplicated games before D and wins (NULL win_flag = loss)."""
    rows = cv.history(team_off[team_off["team_abbr"].isin(teams)], "team_abbr", day, schedule)
    wins = rows["win_flag"].fillna(False).astype(bool).astype("float64")
    grouped = wins.groupby(rows["team_abbr"], sort=False)
    return pd.DataFrame({"team_games": grouped.size().astype("float64"), "team_wins": grouped.sum()})


def _ready(series: pd.Series) -> np.ndarray:
    """is_production_ready with NULL (and absent rows) as FALSE."""
    return series.astype("boolean").fillna(False).astype(bool).to_numpy()


def assemble(
    players: pd.DataFrame, values: np.ndarray, score: np.ndarray, source: list[str], day: dt.date,
    run_ts: pd.Timestamp, out_table: TableSpec,
) -> pd.DataFrame:
    """Output rows (unrounded, unhashed) from the joined inputs and the computed features."""
    n = len(players)
    cols: dict[str, Any] = {
        "player_lookup": players["player_lookup"].array,
        "universal_player_id": players["universal_player_id"].array,
        "game_date": [day] * n,
        "game_id": players["game_id"].array,
        "features": values.tolist(),
        "feature_names": [list(FEATURE_NAMES) for _ in range(n)],
        "feature_count": len(FEATURE_NAMES),
        "feature_version": FEATURE_VERSION,
        "feature_generation_time_ms": None,
        "feature_quality_score": score,
        "opponent_team_abbr": players["opponent_team_abbr"].array,
        "is_home": players["home_game"].astype("boolean").array,
        "days_rest": players["days_rest"],
        "data_source": source,
        "early_season_flag": False,
        "insufficient_data_reason": None,
        "expected_games_count": players["expected"].to_numpy(),
        "actual_games_count": players["actual"].to_numpy(),
        "completeness_percentage": players["pct"].to_numpy(),
        "missing_games_count": players["missing"].to_numpy(),
        "updated_at": None,
    }
    ready = players["pct"].to_numpy() >= 90.0
    issues: list[list[str]] = [["own_data_incomplete"] if not ok else [] for ok in ready]
    ctx_ready = _ready(players["is_production_ready"])
    ready &= ctx_ready
    for i in np.flatnonzero(~ctx_ready):
        issues[i].append("upstream_player_context_incomplete")
    for up in UPSTREAMS:
        p = up.prefix
        found = players[f"{p}_found"].to_numpy(dtype=bool)
        up_ready = found & _ready(players[f"{p}_is_production_ready"])
        ready &= up_ready
        for i in np.flatnonzero(~up_ready):
            issues[i].append(f"upstream_{up.issue}_{'incomplete' if found[i] else 'missing'}")
        cols[f"source_{up.source}_last_updated"] = players[f"{p}_processed_at"].where(found).array
        cols[f"source_{up.source}_rows_found"] = found.astype("int64")
        cols[f"source_{up.source}_completeness_pct"] = np.where(found, 100.0, 0.0)
        cols[f"source_{up.source}_hash"] = players[f"{p}_data_hash"].where(found, None).to_numpy(dtype=object)
    cols["is_production_ready"] = ready
    cols["data_quality_issues"] = issues
    cols.update(cv.bookkeeping(day, run_ts))
    for col in out_table.columns:  # INT64 as nullable Int64 (integers are not written as floats)
        value = cols.get(col.name)
        if col.base_type == "INT64" and not col.repeated and col.name in cols:
            cols[col.name] = cv.int64_array(value, n)
        elif col.base_type == "STRING" and isinstance(value, np.ndarray | pd.api.extensions.ExtensionArray):
            cols[col.name] = cv.text_column(value, n)  # object with None, as the inputs hold them
    return pd.DataFrame(cols, index=pd.RangeIndex(n))


def vector_problem(players: pd.Series, values: np.ndarray) -> str | None:
    """Every feature vector must be 25 finite float64 numbers (checked before hashing)."""
    if values.shape[1:] != (len(FEATURE_NAMES),):
        return f"feature matrix has shape {values.shape}, expected (n, {len(FEATURE_NAMES)})"
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        return f"non-finite feature value for {players[bad].iloc[0]}"
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
