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
from data_processors.precompute.player_daily_cache.arrays import flags, floats, grouped_means, is_unique, objects, on_day
from nba_backfill.finalize import finalize_columns, text_array
from data_processors.precompute.player_daily_cache.windows import window_counts
from data_processors.precompute.keyed_history import keyed_history, lookup, take_filled
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


def context_positions(ctx: pd.DataFrame, day: dt.date) -> np.ndarray:
    """Positions of the context rows dated D, one per player (greatest processed_at, then greatest game_id)."""
    players = ctx["player_lookup"].to_numpy(dtype=object)
    at = np.flatnonzero(on_day(ctx["game_date"], day) & pd.notna(players))
    if is_unique(players[at]):
        return at  # what dedup_latest keeps when no (player, date) repeats
    return cv.dedup_latest(ctx.take(at), "player_lookup").index.to_numpy()


def shot_zone_positions(zones: pd.DataFrame, day: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the same-date shot-zone rows, one per player (greatest processed_at if
    duplicated), and those rows' players."""
    players = zones["player_lookup"].to_numpy(dtype=object)
    at = np.flatnonzero(on_day(zones["analysis_date"], day) & pd.notna(players))
    if not is_unique(players[at]):
        rows = zones.take(at).sort_values("processed_at", ascending=False, na_position="last", kind="mergesort")
        at = rows.drop_duplicates("player_lookup", keep="first").index.to_numpy()
    return at, players[at]


# --------------------------------------------------------------------------- history aggregates


def player_history(
    pgs: pd.DataFrame, universe: np.ndarray, day: dt.date, schedule: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `pgs` of the universe's `conventions.history` rows (grouped by player in
    universe order, newest first), and each row's player as a position in `universe`.

    `ml_feature_store.history.keyed_history`: integer codes of the wanted players, no frame is
    taken; only the order of the players differs from `history`, and every aggregate here is
    per player.
    """
    return keyed_history(pgs, "player_lookup", universe, day, schedule)


def player_stats(pgs: pd.DataFrame, at: np.ndarray, codes: np.ndarray, n: int) -> dict[str, Any]:
    """Per-player aggregates of §B.5 over G, G10, G5 (position = player code 0..n-1).

    `at` holds the positions in `pgs` of the kept players' active games (`history` order: newest
    first per player), `codes` their players. Means and sums follow pandas' grouped arithmetic
    exactly (`conventions.entity_aggregate`).
    """
    rank = cv.rank_in_order(codes)
    pts, usage = floats(pgs, "points", at), floats(pgs, "usage_rate", at)
    g10, g5 = np.where(rank < LONG_WINDOW, codes, -1), np.where(rank < SHORT_WINDOW, codes, -1)
    out: dict[str, Any] = grouped_means(
        n,
        points_avg_season=(codes, pts),
        player_usage_rate_season=(codes, usage),
        points_avg_last_10=(g10, pts),
        minutes_avg_last_10=(g10, floats(pgs, "minutes_played", at)),
        usage_rate_last_10=(g10, usage),
        ts_pct_last_10=(g10, floats(pgs, "ts_pct", at)),
        points_avg_last_5=(g5, pts),
        scored_mean=(np.where(np.isnan(pts), -1, g10), pts),  # the non-NULL G10 points
    )
    g10 = rank < LONG_WINDOW
    # sample std of the non-NULL G10 points (divisor m - 1; NaN when m < 2)
    scored = g10 & ~np.isnan(pts)
    mean = out.pop("scored_mean")
    m = np.bincount(codes[scored], minlength=n)
    ss = cv.entity_aggregate("sum", np.where(scored, codes, -1), {"ss": (pts - mean[codes]) ** 2}, n)["ss"]
    fg, ast = (np.nan_to_num(floats(pgs, c, at)) for c in ("fg_makes", "assisted_fg_makes"))
    made = cv.entity_aggregate("sum", np.where(g10, codes, -1), {"fg": fg, "ast": ast}, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["points_std_last_10"] = np.where(m >= 2, np.sqrt(ss / (m - 1)), np.nan)
        out["assisted_rate_last_10"] = np.where(made["fg"] != 0, made["ast"] / made["fg"], np.nan)
    out["games_played_season"] = np.bincount(codes, minlength=n)
    stamps = pgs["processed_at"].array.take(at)
    out["source_player_game_last_updated"] = cv.entity_latest(codes, codes >= 0, stamps, n).array
    return out


def player_identity(
    teams: np.ndarray, ids: np.ndarray, codes: np.ndarray, ctx_team: np.ndarray, ctx_id: np.ndarray
) -> dict[str, np.ndarray]:
    """Per kept player: the team of the newest history row (else the context team, §B.7
    completeness) and the universal_player_id (the context's, else the newest non-NULL in history).

    `teams`, `ids` and `codes` (position among the kept players, -1 for others) are per history
    row; `ctx_team`, `ctx_id` per kept player.
    """
    n = len(ctx_team)
    newest = (cv.rank_in_order(codes) == 0) & (codes >= 0)
    team = np.full(n, None, dtype=object)
    team[codes[newest]] = teams[newest]
    team = np.where(pd.isna(team), ctx_team, team)
    upid = ctx_id.copy()
    missing = pd.isna(upid)
    if missing.any():
        known = np.flatnonzero(pd.notna(ids) & (codes >= 0))
        found, first = np.unique(codes[known], return_index=True)  # rows are newest first per player
        fallback = np.full(n, None, dtype=object)
        fallback[found] = ids[known[first]]
        upid[missing] = fallback[missing]
    return {"team": team, "universal_player_id": upid}


def team_history(toff: pd.DataFrame, day: dt.date, schedule: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every team's `conventions.history` rows in `toff` (`keyed_history`: grouped by team,
    newest first): their positions, each one's team code, and the teams (code = position)."""
    teams = objects(toff, "team_abbr", slice(None))
    names = pd.unique(teams[pd.notna(teams)])
    pos, codes = keyed_history(toff, "team_abbr", names, day, schedule)
    return pos, codes, names


def team_stats(toff: pd.DataFrame, pos: np.ndarray, codes: np.ndarray, names: np.ndarray,
               player_teams: np.ndarray) -> dict[str, Any]:
    """Per kept player (by its context team): pace and ORtg over T (the team's 10 newest rows)
    and the team-offense source tracking of §B.7 but its completeness (see `completeness_columns`).

    `pos`/`codes` must cover every team's history (`team_history`): pandas' choice of
    summation, which entity_aggregate follows, depends on the whole column.
    """
    rank = cv.rank_in_order(codes)
    window = np.where(rank < TEAM_OFFENSE_WINDOW_GAMES, codes, -1)
    k = len(names)
    stats = cv.entity_aggregate(
        "mean", window, {"pace": floats(toff, "pace", pos), "ortg": floats(toff, "offensive_rating", pos)}, k
    )
    latest = cv.entity_latest(window, window >= 0, toff["processed_at"].array.take(pos), k).array
    found = np.bincount(window[window >= 0], minlength=k).astype("float64")
    at = lookup(names, player_teams)
    return {
        "team_pace_last_10": take_filled(stats["pace"], at, np.nan),
        "team_off_rating_last_10": take_filled(stats["ortg"], at, np.nan),
        "source_team_offense_last_updated": latest.take(at, allow_fill=True),
        "source_team_offense_rows_found": take_filled(found, at, 0.0),
    }


def completeness_columns(
    player_teams: np.ndarray,
    player_rows: tuple[np.ndarray, np.ndarray],
    teams: np.ndarray,
    team_rows: tuple[np.ndarray, np.ndarray],
    team_dates: pd.DataFrame,
    day: dt.date,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The §B.7 window columns per player and the team-offense completeness of each of `teams`
    (their last 10 final games), from one `windows.window_counts` pass (§1.8 rules).

    `player_teams` gives each player's team (players are 0..n-1); `player_rows` the (player,
    game_date) of the players' in-season rows; `team_rows` the (team name, game_date) of the
    team-offense history. Entities are integer ids, players then teams: ids match faster than
    text, and each entity's counts depend on its own rows only, so both kinds share the pass.
    The l10 window also gives the expected/actual/missing counts and completeness_percentage.
    """
    n = len(player_teams)
    team_at = lookup(teams, team_rows[0])
    spans: dict[str, cv.Window] = {p: ("games", g) if g is not None else ("days", k) for p, (g, k) in WINDOWS.items()}
    spans["team"] = ("games", TEAM_OFFENSE_WINDOW_GAMES)
    counts = window_counts(
        np.concatenate([player_teams, teams]),
        (np.concatenate([player_rows[0], np.where(team_at >= 0, n + team_at, -1)]),
         np.concatenate([player_rows[1], team_rows[1]])),
        team_dates, day, spans,
    )  # fmt: skip
    names = list(counts)  # one vectorized percentage for every window (the rule is element-wise)
    flat = cv.completeness_pct_array(*(np.concatenate([counts[w][i] for w in names]) for i in (1, 0)))
    pct = dict(zip(names, np.split(flat, len(names))))
    cols: dict[str, np.ndarray] = {}
    for prefix in WINDOWS:
        cols[f"{prefix}_completeness_pct"] = pct[prefix][:n]
        cols[f"{prefix}_is_complete"] = pct[prefix][:n] >= PRODUCTION_READY_PCT
    expected, actual = (c[:n] for c in counts["l10"])
    cols |= {"expected_games_count": expected, "actual_games_count": actual, "missing_games_count": expected - actual,
             "completeness_percentage": pct["l10"][:n]}  # fmt: skip
    cols["all_windows_complete"] = np.logical_and.reduce([cols[f"{p}_is_complete"] for p in WINDOWS])
    return cols, pct["team"][n:]


def completeness_windows(
    players: pd.DataFrame, hist: pd.DataFrame, team_dates: pd.DataFrame, day: dt.date
) -> dict[str, np.ndarray]:
    """`completeness_columns` of players given as frames: `players` with columns entity (unique)
    and team, `hist` with the players' in-season rows (player_lookup, game_date)."""
    ids = lookup(players["entity"].to_numpy(dtype=object), hist["player_lookup"].to_numpy(dtype=object))
    none = np.array([], dtype=object)
    cols, _ = completeness_columns(
        players["team"].to_numpy(dtype=object), (ids, hist["game_date"].to_numpy()),
        none, (none, np.array([], dtype="datetime64[ns]")), team_dates, day,
    )  # fmt: skip
    return cols


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


def build_rows(
    day: dt.date,
    ctx: pd.DataFrame,
    at: np.ndarray,
    player: Mapping[str, Any],
    stats: Mapping[str, Any],
    team: Mapping[str, Any],
    zones: pd.DataFrame,
    zone_at: np.ndarray,
    windows: Mapping[str, np.ndarray],
    run_ts: pd.Timestamp,
    out: TableSpec,
) -> pd.DataFrame:
    """Output rows for the kept players (context rows at `at`; `player`, `stats`, `team`,
    `windows` and `zone_at`, the position of each player's shot-zone row or -1, aligned with
    them), typed for the contract (INT64 as Int64, STRING as object with None for NULL), then
    finished as `conventions.finalize` would (`nba_backfill.finalize.finalize_columns`)."""
    size = len(at)
    zone_found = zone_at >= 0
    n = stats["games_played_season"]
    pct10 = windows["completeness_percentage"]
    cols: dict[str, Any] = {
        "player_lookup": objects(ctx, "player_lookup", at),
        "universal_player_id": player["universal_player_id"],
        "cache_date": pd.Timestamp(day),
        **stats,
        **{c: ctx[c].to_numpy()[at] for c in CONTEXT_COPIES},
        "primary_scoring_zone": take_filled(zones["primary_scoring_zone"].to_numpy(dtype=object), zone_at, None),
        "paint_rate_last_10": take_filled(floats(zones, "paint_rate_last_10", slice(None)), zone_at, np.nan),
        "three_pt_rate_last_10": take_filled(floats(zones, "three_pt_rate_last_10", slice(None)), zone_at, np.nan),
        "early_season_flag": n < DAILY_CACHE_FULL_SAMPLE_GAMES,
        "insufficient_data_reason": [
            f"Only {k} games played, need {DAILY_CACHE_FULL_SAMPLE_GAMES} minimum"
            if k < DAILY_CACHE_FULL_SAMPLE_GAMES else None
            for k in n.tolist()
        ],
        **windows,
        # Source tracking (§1.9, §B.7).
        "source_player_game_rows_found": n,
        "source_player_game_completeness_pct": pct10,
        "source_player_game_hash": None,
        **team,
        "source_team_offense_hash": None,
        "source_upcoming_context_last_updated": ctx["processed_at"].array.take(at),
        "source_upcoming_context_rows_found": 1,
        "source_upcoming_context_completeness_pct": 100.0,
        "source_upcoming_context_hash": None,
        "source_shot_zone_last_updated": zones["processed_at"].array.take(zone_at, allow_fill=True),
        "source_shot_zone_rows_found": zone_found,
        "source_shot_zone_completeness_pct": np.where(zone_found, 100.0, 0.0),
        "source_shot_zone_hash": take_filled(zones["data_hash"].to_numpy(dtype=object), zone_at, None),
        "cache_version": CACHE_VERSION,
        **cv.bookkeeping(day, run_ts),
    }
    zone_ready = take_filled(flags(zones["is_production_ready"]), zone_at, False)
    cols["is_production_ready"], cols["data_quality_issues"] = _quality(
        pct10 >= PRODUCTION_READY_PCT, flags(ctx["is_production_ready"])[at], zone_found, zone_ready
    )
    for col in out.columns:
        if col.repeated or col.name not in cols:
            continue
        if col.base_type == "INT64":
            cols[col.name] = cv.int64_array(cols[col.name], size)
        elif col.base_type == "STRING":
            cols[col.name] = text_array(cols[col.name], size)
    return finalize_columns(cols, out, HASH_FIELDS, size)


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
    ctx = frames[CONTEXT]
    ctx_at = context_positions(ctx, day)
    if not len(ctx_at):
        return cv.no_context_result(day, schedule, out)

    universe = objects(ctx, "player_lookup", ctx_at)
    pgs = frames[PGS]
    hist_at, codes = player_history(pgs, universe, day, schedule)
    active = flags(pgs["is_active"])[hist_at] & (floats(pgs, "minutes_played", hist_at) > 0)  # conventions.active_games
    counts = np.bincount(codes[active], minlength=len(universe))
    short = counts < DAILY_CACHE_MIN_GAMES
    skipped = [
        Skipped(str(p), SKIP_CATEGORY, f"{int(k)} active games, need {DAILY_CACHE_MIN_GAMES}")
        for p, k in zip(universe[short].tolist(), counts[short].tolist())
    ]
    team_dates = cv.team_final_dates(schedule, day)
    if short.all():
        return all_skipped_result(ctx.take(ctx_at), team_dates, skipped, out)

    kept_at = ctx_at[~short]
    kept_row = ~short[codes]
    codes = np.where(kept_row, (np.cumsum(~short) - 1)[codes], -1)  # positions among the kept players
    ctx_team = objects(ctx, "team_abbr", kept_at)
    player = player_identity(
        objects(pgs, "team_abbr", hist_at), objects(pgs, "universal_player_id", hist_at), codes,
        ctx_team, objects(ctx, "universal_player_id", kept_at),
    )  # fmt: skip
    toff = frames[TOFF]
    toff_pos, toff_codes, toff_teams = team_history(toff, day, schedule)
    team = team_stats(toff, toff_pos, toff_codes, toff_teams, ctx_team)
    teams = pd.unique(ctx_team[pd.notna(ctx_team)])
    windows, team_pct = completeness_columns(
        player["team"], (codes[kept_row], pgs["game_date"].to_numpy()[hist_at[kept_row]]),
        teams, (toff_teams[toff_codes], toff["game_date"].to_numpy()[toff_pos]), team_dates, day,
    )  # fmt: skip
    team["source_team_offense_completeness_pct"] = take_filled(team_pct, lookup(teams, ctx_team), 100.0)
    zone_at, zone_players = shot_zone_positions(frames[SHOT_ZONE], day)
    rows = build_rows(
        day,
        ctx,
        kept_at,
        player,
        player_stats(pgs, hist_at[active & kept_row], codes[active & kept_row], len(kept_at)),
        team,
        frames[SHOT_ZONE],
        take_filled(zone_at, lookup(zone_players, universe[~short]), -1),
        windows,
        run_ts,
        out,
    )
    return cv.checked_result(rows, out, skipped=skipped, eligible=len(ctx_at))


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
