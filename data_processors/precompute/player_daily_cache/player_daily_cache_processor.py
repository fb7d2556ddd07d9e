"""Phase 4 `player_daily_cache`: one snapshot row per context player with a game on D.

Spec: phase4-composite-cache-features.md §0 and §B (shared conventions: phase4-zone-analysis.md
Part 1). Scoring averages and volatility over the player's active games, the team's recent pace
and offensive rating, workload counters copied from the context row and shot-zone tendencies
copied from the same-date `player_shot_zone_analysis` row, with completeness and provenance.
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
    DAILY_CACHE_FULL_SAMPLE_GAMES,
    DAILY_CACHE_MIN_GAMES,
    PLAYER_COMPLETENESS_WINDOW_GAMES,
    PRODUCTION_READY_PCT,
    TEAM_OFFENSE_WINDOW_GAMES,
)
from nba_backfill.frames import empty_frame, normalize_frame, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec, Skipped
from nba_backfill.tables import TableSpec, table

NAME = "player_daily_cache"
OUTPUT = "nba_precompute.player_daily_cache"
PGS = "nba_analytics.player_game_summary"
TOFF = "nba_analytics.team_offense_game_summary"
CONTEXT = "nba_analytics.upcoming_player_game_context"
SHOT_ZONE = "nba_precompute.player_shot_zone_analysis"
SCHEDULE = "nba_raw.nbac_schedule"

CACHE_VERSION = "v1"
#: G5 / G10 of §B.3: the player's newest active games.
SHORT_WINDOW, LONG_WINDOW = 5, 10
SKIP_CATEGORY = "insufficient_data"

#: Context columns copied unchanged into the row (NULL stays NULL), spec §B.6.
CONTEXT_COPIES = (
    "games_in_last_7_days",
    "games_in_last_14_days",
    "minutes_in_last_7_days",
    "minutes_in_last_14_days",
    "back_to_backs_last_14_days",
    "avg_minutes_per_game_last_7",
    "fourth_quarter_minutes_last_7",
    "player_age",
)
#: Shot-zone columns copied unchanged (all NULL when the row is absent), spec §B.6.
ZONE_COPIES = ("primary_scoring_zone", "paint_rate_last_10", "three_pt_rate_last_10")

HASH_FIELDS = (
    "player_lookup", "universal_player_id", "cache_date", "points_avg_last_5", "points_avg_last_10",
    "points_avg_season", "points_std_last_10", "minutes_avg_last_10", "usage_rate_last_10",
    "ts_pct_last_10", "games_played_season", "team_pace_last_10", "team_off_rating_last_10",
    "player_usage_rate_season", "games_in_last_7_days", "games_in_last_14_days", "minutes_in_last_7_days",
    "minutes_in_last_14_days", "back_to_backs_last_14_days", "avg_minutes_per_game_last_7",
    "fourth_quarter_minutes_last_7", "primary_scoring_zone", "paint_rate_last_10", "three_pt_rate_last_10",
    "assisted_rate_last_10", "player_age", "cache_version",
)

#: Completeness windows of §B.7: column prefix -> (last N games, last K days).
WINDOWS = {
    "l5": (SHORT_WINDOW, None),
    "l10": (PLAYER_COMPLETENESS_WINDOW_GAMES, None),
    "l7d": (None, 7),
    "l14d": (None, 14),
}

#: Columns each input must supply (spec §B.3; the schedule's are those of §1.1).
INPUT_COLUMNS = {
    CONTEXT: ("player_lookup", "universal_player_id", "game_id", "game_date", "team_abbr", *CONTEXT_COPIES,
              "is_production_ready", "processed_at"),
    SHOT_ZONE: ("player_lookup", "analysis_date", *ZONE_COPIES, "is_production_ready", "data_hash", "processed_at"),
    PGS: ("player_lookup", "universal_player_id", "game_id", "game_date", "season_year", "team_abbr", "is_active",
          "minutes_played", "points", "usage_rate", "ts_pct", "fg_makes", "assisted_fg_makes", "processed_at"),
    TOFF: ("team_abbr", "game_id", "game_date", "season_year", "pace", "offensive_rating", "processed_at"),
    SCHEDULE: ("game_id", "game_date", "season_year", "home_team_tricode", "away_team_tricode", "game_status",
               "is_regular_season", "is_playoffs"),
}


# --------------------------------------------------------------------------- same-date rows


def normalize_read(inputs: Mapping[str, Any], name: str, players: pd.Index | None = None) -> pd.DataFrame:
    """`normalize_inputs` for one table, narrowed to the columns this processor reads.

    Same dtypes and NULL rules as the shared helper; normalizing every contract column of a
    season-to-date frame would cost more than the whole computation. With `players`, rows of
    other players are dropped before normalizing (player_lookup is a plain string either way).
    """
    full = table(name)
    cols = INPUT_COLUMNS[name]
    spec = dataclasses.replace(full, columns=tuple(full.column(c) for c in cols))
    data = inputs.get(name)
    if data is None:
        return empty_frame(spec)
    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    df = df[[c for c in cols if c in df.columns]]
    if players is not None and "player_lookup" in df.columns:
        df = df[df["player_lookup"].isin(players)]
    return normalize_frame(df, spec)


def context_rows(ctx: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Context rows dated D, one per player (greatest processed_at, then greatest game_id)."""
    rows = ctx[(ctx["game_date"] == pd.Timestamp(day)) & ctx["player_lookup"].notna()]
    rows = cv.dedup_latest(rows, "player_lookup")
    return rows.set_index("player_lookup", drop=False)


def shot_zone_rows(zones: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Same-date shot-zone rows, one per player (greatest processed_at if duplicated)."""
    rows = zones[(zones["analysis_date"] == pd.Timestamp(day)) & zones["player_lookup"].notna()]
    rows = rows.sort_values("processed_at", ascending=False, na_position="last", kind="mergesort")
    return rows.drop_duplicates("player_lookup", keep="first").set_index("player_lookup")


# --------------------------------------------------------------------------- history aggregates


def _sample_std(g10: pd.DataFrame) -> pd.Series:
    """Sample standard deviation (divisor m - 1) of the non-NULL points; NaN when m < 2."""
    pts = g10[["player_lookup", "points"]].dropna()
    by = pts.groupby("player_lookup", sort=False)["points"]
    m = by.count()
    dev = (pts["points"] - by.transform("mean")) ** 2
    ss = dev.groupby(pts["player_lookup"], sort=False).sum()
    return np.sqrt(ss / (m - 1)).where(m >= 2)


def player_stats(active: pd.DataFrame) -> pd.DataFrame:
    """Per-player aggregates of §B.5 over G, G10, G5 (`active` newest first per player)."""
    g = active.assign(_rank=active.groupby("player_lookup", sort=False).cumcount())
    g10 = g[g["_rank"] < LONG_WINDOW]
    g10 = g10.assign(_fg=g10["fg_makes"].fillna(0), _ast=g10["assisted_fg_makes"].fillna(0))
    g5 = g[g["_rank"] < SHORT_WINDOW]
    by_g = g.groupby("player_lookup", sort=False)
    by_10 = g10.groupby("player_lookup", sort=False)
    fg, assisted = by_10["_fg"].sum(), by_10["_ast"].sum()
    out = pd.DataFrame(
        {
            "games_played_season": by_g.size(),
            "points_avg_season": by_g["points"].mean(),
            "player_usage_rate_season": by_g["usage_rate"].mean(),
            "source_player_game_last_updated": by_g["processed_at"].max(),
            "points_avg_last_10": by_10["points"].mean(),
            "minutes_avg_last_10": by_10["minutes_played"].mean(),
            "usage_rate_last_10": by_10["usage_rate"].mean(),
            "ts_pct_last_10": by_10["ts_pct"].mean(),
            "assisted_rate_last_10": (assisted / fg).where(fg != 0),
        }
    )
    out["points_avg_last_5"] = g5.groupby("player_lookup", sort=False)["points"].mean()
    out["points_std_last_10"] = _sample_std(g10)
    return out


def team_stats(toff_hist: pd.DataFrame, team_dates: pd.DataFrame, day: dt.date, teams: pd.Index) -> pd.DataFrame:
    """Per team of `teams`: pace and ORtg over T (its 10 newest rows) plus source tracking (§B.7).

    The source completeness is that of the team's last 10 final games in team_offense_game_summary.
    """
    window = cv.last_n(toff_hist, "team_abbr", TEAM_OFFENSE_WINDOW_GAMES)
    by = window.groupby("team_abbr", sort=False)
    out = pd.DataFrame(
        {
            "team_pace_last_10": by["pace"].mean(),
            "team_off_rating_last_10": by["offensive_rating"].mean(),
            "source_team_offense_last_updated": by["processed_at"].max(),
            "source_team_offense_rows_found": by.size(),
        }
    ).reindex(teams)
    entities = pd.DataFrame({"entity": teams, "team": teams})
    have = toff_hist[["team_abbr", "game_date"]].rename(columns={"team_abbr": "entity"})
    comp = cv.completeness(entities, have, team_dates, day=day, last_games=TEAM_OFFENSE_WINDOW_GAMES)
    out["source_team_offense_completeness_pct"] = comp["pct"].to_numpy()
    out["source_team_offense_rows_found"] = out["source_team_offense_rows_found"].fillna(0)
    return out


def completeness_windows(
    players: pd.DataFrame, hist: pd.DataFrame, team_dates: pd.DataFrame, day: dt.date
) -> pd.DataFrame:
    """The four §B.7 windows (§1.8 rules) per player, in one pass over the team dates.

    `players` has columns entity, team; `hist` holds the players' in-season rows. Same result as
    four `conventions.completeness` calls, at a quarter of the cost (this runs ~850 times a backfill).
    """
    ranked = team_dates.assign(_rank=team_dates.groupby("team", sort=False).cumcount())
    bounds = {p: (g, None if k is None else pd.Timestamp(day - dt.timedelta(days=k))) for p, (g, k) in WINDOWS.items()}
    oldest = min(b for _, b in bounds.values() if b is not None)
    longest = max(g for g, _ in bounds.values() if g is not None)
    ranked = ranked[(ranked["_rank"] < longest) | (ranked["game_date"] >= oldest)]
    wanted = players[["entity", "team"]].merge(ranked, on="team", how="inner")
    have = hist[["player_lookup", "game_date"]].rename(columns={"player_lookup": "entity"})
    have = have[have["game_date"] >= ranked["game_date"].min()].drop_duplicates().assign(_hit=True)
    joined = wanted.merge(have, on=["entity", "game_date"], how="left")
    hit = joined["_hit"].notna().to_numpy()
    entity = joined["entity"].to_numpy()
    out = pd.DataFrame(index=pd.Index(players["entity"]))

    def per_entity(mask: np.ndarray) -> pd.Series:
        return pd.Series(mask).groupby(entity).sum().reindex(out.index, fill_value=0).astype("int64")

    for prefix, (games, lo) in bounds.items():
        inside = (joined["_rank"] < games).to_numpy() if games is not None else (joined["game_date"] >= lo).to_numpy()
        expected, actual = per_entity(inside), per_entity(inside & hit)
        pct = _percentages(actual, expected)
        out[f"{prefix}_completeness_pct"] = pct
        out[f"{prefix}_is_complete"] = pct >= PRODUCTION_READY_PCT
        if prefix == "l10":
            out["expected_games_count"] = expected
            out["actual_games_count"] = actual
            out["missing_games_count"] = expected - actual
            out["completeness_percentage"] = pct
    out["all_windows_complete"] = out[[f"{p}_is_complete" for p in WINDOWS]].all(axis=1)
    return out


def _percentages(actual: pd.Series, expected: pd.Series) -> pd.Series:
    """`conventions.completeness_pct` per row, evaluated once per distinct (actual, expected)."""
    pairs = list(zip(actual.tolist(), expected.tolist()))
    cache = {pair: cv.completeness_pct(*pair) for pair in set(pairs)}
    return pd.Series([cache[pair] for pair in pairs], index=actual.index, dtype="float64")


# --------------------------------------------------------------------------- outcomes


def _games_on(schedule: pd.DataFrame, day: dt.date) -> int:
    """Distinct home/away pairs of regular-season or playoff schedule rows dated D (any status)."""
    rows = schedule[schedule["game_date"] == pd.Timestamp(day)]
    kind = rows["is_regular_season"].fillna(False).astype(bool) | rows["is_playoffs"].fillna(False).astype(bool)
    return len(rows[kind][["home_team_tricode", "away_team_tricode"]].drop_duplicates())


def no_context_result(schedule: pd.DataFrame, day: dt.date, out: TableSpec) -> ProcessorResult:
    """§0.3: no context rows is EXPECTED_EMPTY without games on D, else an upstream gap (FAILED)."""
    n = _games_on(schedule, day)
    if n == 0:
        return ProcessorResult(cv.empty_rows(out), "EXPECTED_EMPTY", f"no games on {day.isoformat()}")
    reason = (
        f"no upcoming_player_game_context rows for {day.isoformat()} "
        f"although the schedule lists {n} game(s) on that date"
    )
    return ProcessorResult(rows=cv.empty_rows(out), outcome="FAILED", reason=reason, entities_eligible=0)


def all_skipped_result(
    ctx: pd.DataFrame, team_dates: pd.DataFrame, skipped: list[Skipped], out: TableSpec
) -> ProcessorResult:
    """§B.9: every player skipped; explained by the calendar only if no team has 5 final games."""
    counts = team_dates.groupby("team").size()
    teams = [t for t in ctx["team_abbr"].dropna().unique() if t in counts.index]
    s = int(counts.loc[teams].max()) if teams else 0
    base = f"0/{len(ctx)} players have {DAILY_CACHE_MIN_GAMES} active games"
    if s < DAILY_CACHE_MIN_GAMES:
        outcome, reason = "EXPECTED_EMPTY", base
    else:
        outcome, reason = "FAILED", f"{base} although the schedule shows {s} final games for some team"
    return ProcessorResult(
        rows=cv.empty_rows(out), outcome=outcome, reason=reason, skipped=skipped, entities_eligible=len(ctx)
    )


def invariant_problem(rows: pd.DataFrame, out: TableSpec) -> str | None:
    """The first violated output invariant (§1.2), or None."""
    if rows.duplicated(list(out.primary_key)).any():
        return "duplicate primary key"
    for col in out.columns:
        values = rows[col.name]
        if col.required and values.isna().any():
            return f"NULL in required column {col.name}"
        if col.base_type in ("NUMERIC", "FLOAT64", "INT64") and not col.repeated:
            nums = pd.to_numeric(values, errors="coerce").astype("float64")
            if np.isinf(nums).any():
                return f"infinite value in {col.name}"
            if col.numeric_precision is not None and col.numeric_scale is not None:
                limit = 10.0 ** (col.numeric_precision - col.numeric_scale)
                if (nums.abs() >= limit).any():
                    return f"value out of NUMERIC range in {col.name}"
    return None


# --------------------------------------------------------------------------- row assembly


def _quality(
    ready_pct: pd.Series, ctx_ready: pd.Series, zone_found: pd.Series, zone_ready: pd.Series
) -> tuple[pd.Series, list[list[str]]]:
    """is_production_ready and data_quality_issues (§B.7), in the spec's issue order."""
    own_ok = ready_pct.map(cv.is_ready).astype(bool)
    ready = own_ok & ctx_ready & zone_found & zone_ready
    issues: list[list[str]] = []
    for own, c, found, zr in zip(own_ok, ctx_ready, zone_found, zone_ready):
        codes = [] if own else ["own_data_incomplete"]
        if not c:
            codes.append("upstream_player_context_incomplete")
        if not found:
            codes.append("upstream_player_shot_zone_missing")
        elif not zr:
            codes.append("upstream_player_shot_zone_incomplete")
        issues.append(codes)
    return ready, issues


def build_rows(
    day: dt.date,
    ctx: pd.DataFrame,
    stats: pd.DataFrame,
    hist: pd.DataFrame,
    teams: pd.DataFrame,
    zones: pd.DataFrame,
    windows: pd.DataFrame,
    run_ts: pd.Timestamp,
) -> pd.DataFrame:
    """Unrounded output rows for the kept players (`ctx` indexed by player_lookup, all in `stats`)."""
    idx = ctx.index
    stats, windows = stats.reindex(idx), windows.reindex(idx)
    team = teams.reindex(ctx["team_abbr"]).set_axis(idx)
    zone = zones.reindex(idx)
    zone_found = pd.Series(idx.isin(zones.index), index=idx)
    newest_upid = hist.dropna(subset=["universal_player_id"]).drop_duplicates("player_lookup")
    n = stats["games_played_season"]
    cols: dict[str, Any] = {
        "player_lookup": ctx["player_lookup"],
        "universal_player_id": ctx["universal_player_id"].fillna(
            newest_upid.set_index("player_lookup")["universal_player_id"].reindex(idx)
        ),
        "cache_date": pd.Timestamp(day),
        **{c: stats[c] for c in stats.columns if c != "source_player_game_last_updated"},
        "team_pace_last_10": team["team_pace_last_10"],
        "team_off_rating_last_10": team["team_off_rating_last_10"],
        **{c: ctx[c] for c in CONTEXT_COPIES},
        **{c: zone[c] for c in ZONE_COPIES},
        "early_season_flag": n < DAILY_CACHE_FULL_SAMPLE_GAMES,
        "insufficient_data_reason": [
            f"Only {k} games played, need {DAILY_CACHE_FULL_SAMPLE_GAMES} minimum"
            if k < DAILY_CACHE_FULL_SAMPLE_GAMES else None
            for k in n.astype(int)
        ],
        **{c: windows[c] for c in windows.columns},
        # Source tracking (§1.9, §B.7).
        "source_player_game_last_updated": stats["source_player_game_last_updated"],
        "source_player_game_rows_found": n,
        "source_player_game_completeness_pct": windows["completeness_percentage"],
        "source_player_game_hash": None,
        "source_team_offense_last_updated": team["source_team_offense_last_updated"],
        "source_team_offense_rows_found": team["source_team_offense_rows_found"].fillna(0),
        "source_team_offense_completeness_pct": team["source_team_offense_completeness_pct"].fillna(100.0),
        "source_team_offense_hash": None,
        "source_upcoming_context_last_updated": ctx["processed_at"],
        "source_upcoming_context_rows_found": 1,
        "source_upcoming_context_completeness_pct": 100.0,
        "source_upcoming_context_hash": None,
        "source_shot_zone_last_updated": zone["processed_at"],
        "source_shot_zone_rows_found": zone_found.astype(int),
        "source_shot_zone_completeness_pct": zone_found.map({True: 100.0, False: 0.0}),
        "source_shot_zone_hash": zone["data_hash"],
        "cache_version": CACHE_VERSION,
        **cv.bookkeeping(day, run_ts),
    }
    cols["is_production_ready"], cols["data_quality_issues"] = _quality(
        windows["completeness_percentage"],
        ctx["is_production_ready"].fillna(False).astype(bool),
        zone_found,
        zone["is_production_ready"].fillna(False).astype(bool),
    )
    return pd.DataFrame(cols, index=idx)


def _cast_types(rows: pd.DataFrame, out: TableSpec) -> pd.DataFrame:
    """INT64 columns as nullable Int64 (inputs carry integral floats); STRING NULLs as None, not NaN."""
    for col in out.columns:
        if col.repeated:
            continue
        if col.base_type == "INT64":
            rows[col.name] = rows[col.name].astype("Int64")
        elif col.base_type == "STRING":
            obj = rows[col.name].astype("object")
            rows[col.name] = obj.where(obj.notna(), None)
    return rows


# --------------------------------------------------------------------------- compute


def compute(
    analysis_date: dt.date,
    inputs: Mapping[str, Any],
    run_timestamp: dt.datetime | None = None,
) -> ProcessorResult:
    """Build the player_daily_cache partition for D (spec §B)."""
    day = analysis_date
    out = table(OUTPUT)
    run_ts = resolve_run_timestamp(run_timestamp)
    schedule = normalize_read(inputs, SCHEDULE)
    boot = cv.bootstrap_result(day, schedule, out)
    if boot is not None:
        return boot
    ctx = context_rows(normalize_read(inputs, CONTEXT), day)
    if ctx.empty:
        return no_context_result(schedule, day, out)

    universe = ctx.index
    hist = cv.history(normalize_read(inputs, PGS, universe), "player_lookup", day, schedule)
    active = cv.active_games(hist)
    counts = active.groupby("player_lookup").size().reindex(universe, fill_value=0)
    short = counts[counts < DAILY_CACHE_MIN_GAMES]
    skipped = [
        Skipped(str(p), SKIP_CATEGORY, f"{int(k)} active games, need {DAILY_CACHE_MIN_GAMES}") for p, k in short.items()
    ]
    team_dates = cv.team_final_dates(schedule, day)
    kept = ctx[~ctx.index.isin(short.index)]
    if kept.empty:
        return all_skipped_result(ctx, team_dates, skipped, out)

    toff_hist = cv.history(normalize_read(inputs, TOFF), "team_abbr", day, schedule)
    kept_hist = hist[hist["player_lookup"].isin(kept.index)]
    newest_team = kept_hist.drop_duplicates("player_lookup").set_index("player_lookup")["team_abbr"]
    team = newest_team.reindex(kept.index).fillna(kept["team_abbr"])
    players = pd.DataFrame({"entity": kept.index, "team": team.to_numpy()})
    rows = build_rows(
        day,
        kept,
        player_stats(active[active["player_lookup"].isin(kept.index)]),
        kept_hist,
        team_stats(toff_hist, team_dates, day, pd.Index(kept["team_abbr"].dropna().unique())),
        shot_zone_rows(normalize_read(inputs, SHOT_ZONE), day),
        completeness_windows(players, kept_hist, team_dates, day),
        run_ts,
    )
    rows = _cast_types(rows.reset_index(drop=True).reindex(columns=out.column_names), out)
    rows = cv.finalize(rows, out, HASH_FIELDS)
    problem = invariant_problem(rows, out)
    if problem is not None:
        return ProcessorResult(rows=cv.empty_rows(out), outcome="FAILED", reason=problem, entities_eligible=len(ctx))
    return ProcessorResult(rows=rows, outcome="COMPLETE", skipped=skipped, entities_eligible=len(ctx))


SPEC = ProcessorSpec(
    name=NAME,
    phase=4,
    output_table=OUTPUT,
    date_column="cache_date",
    inputs=(
        InputSpec(CONTEXT, "same_date", columns=INPUT_COLUMNS[CONTEXT]),
        InputSpec(SHOT_ZONE, "same_date", columns=INPUT_COLUMNS[SHOT_ZONE]),
        InputSpec(PGS, "season_to_date", columns=INPUT_COLUMNS[PGS]),
        InputSpec(TOFF, "season_to_date", columns=INPUT_COLUMNS[TOFF]),
        InputSpec(SCHEDULE, "season_to_date", columns=INPUT_COLUMNS[SCHEDULE]),
    ),
    compute=compute,
    upstreams=("player_shot_zone_analysis",),
    needs_context=True,
    bootstrap_skip=True,
    description="Per-player daily snapshot: scoring averages, team pace/ORtg, workload and shot-zone copies.",
    wrapper=f"backfill_jobs/precompute/{NAME}/{NAME}_precompute_backfill.py",
)
