"""Phase 4 `player_daily_cache`: one snapshot row per context player with a game on D.

Spec: phase4-composite-cache-features.md §0 and §B (shared conventions: phase4-zone-analysis.md
Part 1). Scoring averages and volatility over the player's active games, the team's recent pace
and offensive rating, workload counters copied from the context row and shot-zone tendencies
copied from the same-date `player_shot_zone_analysis` row, with completeness and provenance.
"""
from __future__ import annotations

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
from nba_backfill.frames import read_declared, resolve_run_timestamp
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


def _floats(df: pd.DataFrame, col: str, rows: np.ndarray | None = None) -> np.ndarray:
    values = df[col].to_numpy(dtype="float64", na_value=np.nan)
    return values if rows is None else values[rows]


def player_stats(hist: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, n: int) -> pd.DataFrame:
    """Per-player aggregates of §B.5 over G, G10, G5 (one row per player code 0..n-1).

    `rows` selects the active games of the kept players in `hist` (`history` order: newest first
    per player); `codes` are the players' positions (per hist row). Means and sums follow pandas'
    grouped arithmetic exactly (`conventions.entity_aggregate`).
    """
    codes = codes[rows]
    rank = cv.rank_in_order(codes)
    pts, usage = _floats(hist, "points", rows), _floats(hist, "usage_rate", rows)
    g10, g5 = rank < LONG_WINDOW, rank < SHORT_WINDOW

    def means(within: np.ndarray, **columns: np.ndarray) -> dict[str, np.ndarray]:
        return cv.entity_aggregate("mean", np.where(within, codes, -1), columns, n)

    out = pd.DataFrame(
        {
            **means(np.ones(len(codes), dtype=bool), points_avg_season=pts, player_usage_rate_season=usage),
            **means(
                g10,
                points_avg_last_10=pts,
                minutes_avg_last_10=_floats(hist, "minutes_played", rows),
                usage_rate_last_10=usage,
                ts_pct_last_10=_floats(hist, "ts_pct", rows),
            ),
            **means(g5, points_avg_last_5=pts),
        }
    )
    # sample std of the non-NULL G10 points (divisor m - 1; NaN when m < 2)
    scored = g10 & ~np.isnan(pts)
    mean = means(scored, p=pts)["p"]
    m = np.bincount(codes[scored], minlength=n)
    ss = cv.entity_aggregate("sum", np.where(scored, codes, -1), {"ss": (pts - mean[codes]) ** 2}, n)["ss"]
    made = {"fg": np.nan_to_num(_floats(hist, "fg_makes", rows)), "ast": np.nan_to_num(_floats(hist, "assisted_fg_makes", rows))}
    made = cv.entity_aggregate("sum", np.where(g10, codes, -1), made, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["points_std_last_10"] = np.where(m >= 2, np.sqrt(ss / (m - 1)), np.nan)
        out["assisted_rate_last_10"] = np.where(made["fg"] != 0, made["ast"] / made["fg"], np.nan)
    out["games_played_season"] = np.bincount(codes, minlength=n)
    out["source_player_game_last_updated"] = cv.entity_latest(codes, codes >= 0, hist["processed_at"][rows], n)
    return out


def player_identity(hist: pd.DataFrame, codes: np.ndarray, kept: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per kept player: the team of the newest history row (else the context team, §B.7
    completeness) and the universal_player_id (the context's, else the newest non-NULL in history)."""
    n = len(kept)
    newest = (cv.rank_in_order(codes) == 0) & (codes >= 0)
    team = np.full(n, None, dtype=object)
    team[codes[newest]] = hist["team_abbr"].to_numpy(dtype=object)[newest]
    team = np.where(pd.isna(team), kept["team_abbr"].to_numpy(dtype=object), team)
    upid = kept["universal_player_id"].to_numpy(dtype=object).copy()
    missing = pd.isna(upid)
    if missing.any():
        ids = hist["universal_player_id"].to_numpy(dtype=object)
        known = np.flatnonzero(pd.notna(ids) & (codes >= 0))
        found, first = np.unique(codes[known], return_index=True)  # rows are newest first per player
        fallback = np.full(n, None, dtype=object)
        fallback[found] = ids[known[first]]
        upid[missing] = fallback[missing]
    return {"team": team, "universal_player_id": upid}


def team_stats(toff_hist: pd.DataFrame, team_dates: pd.DataFrame, day: dt.date, teams: pd.Index) -> pd.DataFrame:
    """Per team of `teams`: pace and ORtg over T (its 10 newest rows) plus source tracking (§B.7).

    `toff_hist` must hold every team's history (as `history` returns it): pandas' choice of
    summation, which entity_aggregate follows, depends on the whole column. The source
    completeness is that of the team's last 10 final games in team_offense_game_summary.
    """
    codes, rank, names = cv.entity_ranks(toff_hist["team_abbr"])
    window = np.where(rank < TEAM_OFFENSE_WINDOW_GAMES, codes, -1)
    k = len(names)
    stats = cv.entity_aggregate(
        "mean", window, {"team_pace_last_10": _floats(toff_hist, "pace"),
                         "team_off_rating_last_10": _floats(toff_hist, "offensive_rating")}, k,
    )  # fmt: skip
    out = pd.DataFrame(stats, index=pd.Index(names, dtype=object))
    out["source_team_offense_last_updated"] = cv.entity_latest(window, window >= 0, toff_hist["processed_at"], k).array
    out["source_team_offense_rows_found"] = np.bincount(window[window >= 0], minlength=k)
    out = out.reindex(teams)
    entities = pd.DataFrame({"entity": teams, "team": teams})
    have = toff_hist[["team_abbr", "game_date"]].rename(columns={"team_abbr": "entity"})
    comp = cv.completeness(entities, have, team_dates, day=day, last_games=TEAM_OFFENSE_WINDOW_GAMES)
    out["source_team_offense_completeness_pct"] = comp["pct"].to_numpy()
    return out


def completeness_windows(
    players: pd.DataFrame, hist: pd.DataFrame, team_dates: pd.DataFrame, day: dt.date
) -> pd.DataFrame:
    """The §B.7 window columns per player (§1.8 rules), from one `conventions.completeness_windows` pass.

    `players` has columns entity, team; `hist` holds the players' in-season rows. The l10 window
    also gives the expected/actual/missing counts and completeness_percentage.
    """
    spans: dict[str, cv.Window] = {p: ("games", g) if g is not None else ("days", k) for p, (g, k) in WINDOWS.items()}
    have = hist[["player_lookup", "game_date"]].rename(columns={"player_lookup": "entity"})
    comps = cv.completeness_windows(players, have, team_dates, day=day, windows=spans)
    cols: dict[str, np.ndarray] = {}
    for prefix, comp in comps.items():
        pct = comp["pct"].to_numpy()
        cols[f"{prefix}_completeness_pct"] = pct
        cols[f"{prefix}_is_complete"] = pct >= PRODUCTION_READY_PCT
        if prefix == "l10":
            cols["expected_games_count"] = comp["expected"].to_numpy()
            cols["actual_games_count"] = comp["actual"].to_numpy()
            cols["missing_games_count"] = comp["missing"].to_numpy()
            cols["completeness_percentage"] = pct
    cols["all_windows_complete"] = np.logical_and.reduce([cols[f"{p}_is_complete"] for p in WINDOWS])
    return pd.DataFrame(cols, index=pd.Index(players["entity"]))


# --------------------------------------------------------------------------- outcomes


def all_skipped_result(
    ctx: pd.DataFrame, team_dates: pd.DataFrame, skipped: list[Skipped], out: TableSpec
) -> ProcessorResult:
    """§B.9: every player skipped; explained by the calendar only if no team has 5 final games.

    Unlike the zone processors' rule, S is taken over the context rows' teams only.
    """
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


# --------------------------------------------------------------------------- row assembly


def _quality(
    own_ok: np.ndarray, ctx_ready: np.ndarray, zone_found: np.ndarray, zone_ready: np.ndarray
) -> tuple[np.ndarray, list[list[str]]]:
    """is_production_ready and data_quality_issues (§B.7), in the spec's issue order."""
    issues: list[list[str]] = []
    for own, c, found, zr in zip(own_ok.tolist(), ctx_ready.tolist(), zone_found.tolist(), zone_ready.tolist()):
        codes = [] if own else ["own_data_incomplete"]
        if not c:
            codes.append("upstream_player_context_incomplete")
        if not found:
            codes.append("upstream_player_shot_zone_missing")
        elif not zr:
            codes.append("upstream_player_shot_zone_incomplete")
        issues.append(codes)
    return own_ok & ctx_ready & zone_found & zone_ready, issues


def _flags(series: pd.Series) -> np.ndarray:
    """A BOOLEAN column as bool, NULL (and absent rows) as FALSE."""
    return series.astype("boolean").to_numpy(dtype=bool, na_value=False)


def build_rows(
    day: dt.date,
    ctx: pd.DataFrame,
    player: Mapping[str, Any],
    stats: pd.DataFrame,
    teams: pd.DataFrame,
    zones: pd.DataFrame,
    windows: pd.DataFrame,
    run_ts: pd.Timestamp,
    out: TableSpec,
) -> pd.DataFrame:
    """Output rows for the kept players (`ctx`; `player` and `stats` aligned with it), typed for the
    contract (INT64 as Int64, STRING as object with None for NULL), not yet rounded or hashed."""
    size = len(ctx)
    team = teams.reindex(ctx["team_abbr"])
    zone = zones.reindex(ctx.index)
    zone_found = ctx.index.isin(zones.index)
    n = stats["games_played_season"].to_numpy()
    pct10 = windows["completeness_percentage"].to_numpy()
    cols: dict[str, Any] = {
        "player_lookup": ctx["player_lookup"].to_numpy(dtype=object),
        "universal_player_id": player["universal_player_id"],
        "cache_date": pd.Timestamp(day),
        **{c: stats[c].to_numpy() for c in stats.columns if c != "source_player_game_last_updated"},
        "team_pace_last_10": team["team_pace_last_10"].to_numpy(),
        "team_off_rating_last_10": team["team_off_rating_last_10"].to_numpy(),
        **{c: ctx[c].to_numpy() for c in CONTEXT_COPIES},
        "primary_scoring_zone": zone["primary_scoring_zone"].to_numpy(dtype=object),
        "paint_rate_last_10": zone["paint_rate_last_10"].to_numpy(),
        "three_pt_rate_last_10": zone["three_pt_rate_last_10"].to_numpy(),
        "early_season_flag": n < DAILY_CACHE_FULL_SAMPLE_GAMES,
        "insufficient_data_reason": [
            f"Only {k} games played, need {DAILY_CACHE_FULL_SAMPLE_GAMES} minimum"
            if k < DAILY_CACHE_FULL_SAMPLE_GAMES else None
            for k in n.tolist()
        ],
        **{c: windows[c].to_numpy() for c in windows.columns},
        # Source tracking (§1.9, §B.7).
        "source_player_game_last_updated": stats["source_player_game_last_updated"].array,
        "source_player_game_rows_found": n,
        "source_player_game_completeness_pct": pct10,
        "source_player_game_hash": None,
        "source_team_offense_last_updated": team["source_team_offense_last_updated"].array,
        "source_team_offense_rows_found": np.nan_to_num(team["source_team_offense_rows_found"].to_numpy("float64")),
        "source_team_offense_completeness_pct": team["source_team_offense_completeness_pct"].fillna(100.0).to_numpy(),
        "source_team_offense_hash": None,
        "source_upcoming_context_last_updated": ctx["processed_at"].array,
        "source_upcoming_context_rows_found": 1,
        "source_upcoming_context_completeness_pct": 100.0,
        "source_upcoming_context_hash": None,
        "source_shot_zone_last_updated": zone["processed_at"].array,
        "source_shot_zone_rows_found": zone_found,
        "source_shot_zone_completeness_pct": np.where(zone_found, 100.0, 0.0),
        "source_shot_zone_hash": zone["data_hash"].to_numpy(dtype=object),
        "cache_version": CACHE_VERSION,
        **cv.bookkeeping(day, run_ts),
    }
    cols["is_production_ready"], cols["data_quality_issues"] = _quality(
        pct10 >= PRODUCTION_READY_PCT, _flags(ctx["is_production_ready"]), zone_found, _flags(zone["is_production_ready"])
    )
    for col in out.columns:
        if col.repeated or col.name not in cols:
            continue
        if col.base_type == "INT64":
            cols[col.name] = cv.int64_array(cols[col.name], size)
        elif col.base_type == "STRING":
            cols[col.name] = cv.text_column(cols[col.name], size)
    return pd.DataFrame({c: cols[c] for c in out.column_names if c in cols}, index=pd.RangeIndex(size))


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
    frames = read_declared(inputs, SPEC.inputs)
    schedule = frames[SCHEDULE]
    boot = cv.bootstrap_result(day, schedule, out)
    if boot is not None:
        return boot
    ctx = context_rows(frames[CONTEXT], day)
    if ctx.empty:
        return cv.no_context_result(day, schedule, out)

    universe = ctx.index
    pgs = frames[PGS]
    hist = cv.history(pgs[pgs["player_lookup"].isin(universe)], "player_lookup", day, schedule)
    codes = universe.get_indexer(hist["player_lookup"])
    active = _flags(hist["is_active"]) & (_floats(hist, "minutes_played") > 0)  # conventions.active_games
    counts = np.bincount(codes[active], minlength=len(universe))
    short = counts < DAILY_CACHE_MIN_GAMES
    skipped = [
        Skipped(str(p), SKIP_CATEGORY, f"{int(k)} active games, need {DAILY_CACHE_MIN_GAMES}")
        for p, k in zip(universe[short], counts[short].tolist())
    ]
    team_dates = cv.team_final_dates(schedule, day)
    if short.all():
        return all_skipped_result(ctx, team_dates, skipped, out)

    kept = ctx[~short]
    kept_row = ~short[codes]
    codes = np.where(kept_row, (np.cumsum(~short) - 1)[codes], -1)  # positions in `kept`
    player = player_identity(hist, codes, kept)
    players = pd.DataFrame({"entity": kept.index, "team": player["team"]})
    teams = pd.Index(kept["team_abbr"].dropna().unique())
    rows = build_rows(
        day,
        kept,
        player,
        player_stats(hist, active & kept_row, codes, len(kept)),
        team_stats(cv.history(frames[TOFF], "team_abbr", day, schedule), team_dates, day, teams),
        shot_zone_rows(frames[SHOT_ZONE], day),
        completeness_windows(players, hist[kept_row], team_dates, day),
        run_ts,
        out,
    )
    rows = cv.finalize(rows, out, HASH_FIELDS)
    return cv.checked_result(rows, out, skipped=skipped, eligible=len(ctx))


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
)
