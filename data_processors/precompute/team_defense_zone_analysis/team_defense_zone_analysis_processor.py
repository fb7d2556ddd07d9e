"""Phase 4 `team_defense_zone_analysis`: zone-by-zone defense of each team over its last 15 games.

Spec: phase4-zone-analysis.md Part 2. One row per team with at least 15 in-season games
before D; zone FG% allowed is compared with a league average taken over D-30..D-1.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from data_processors.precompute import conventions as cv
from nba_backfill.constants import (
    BOOTSTRAP_DAYS,
    LEAGUE_AVG_DEFAULTS,
    LEAGUE_AVG_LOOKBACK_DAYS,
    LEAGUE_AVG_MIN_TEAM_GAMES,
    LEAGUE_AVG_MIN_TEAMS,
    TEAM_DEFENSE_MIN_GAMES,
    TEAM_DEFENSE_WINDOW_GAMES,
)
from nba_backfill.dates import season_of
from nba_backfill.frames import read_declared, resolve_run_timestamp
from nba_backfill.processor import InputSpec, ProcessorResult, ProcessorSpec
from nba_backfill.tables import table
from nba_backfill.values import is_null, round_half_away_array

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
    codes, teams = pd.factorize(hist[KEY], sort=True)  # groupby order: teams sorted
    cols = [c for _, m, a in ZONES for c in (m, a)]
    return league_average_arrays(codes, hist["game_date"].to_numpy(), hist[cols].to_numpy(dtype="float64"),
                                 len(teams), day)  # fmt: skip


def league_average_arrays(codes: np.ndarray, dates: np.ndarray, zone_values: np.ndarray, n_teams: int,
                          day: dt.date) -> tuple[dict[str, float], str | None]:
    """`league_averages` on arrays: `codes` number the teams in sorted order (-1 = none), `dates`
    are datetime64 and `zone_values` holds makes, attempts per zone of ZONES (rows x 6).

    Kept teams are averaged in sorted order, so the float sum is that of a sorted groupby."""
    recent = dates >= np.datetime64(pd.Timestamp(day - dt.timedelta(days=LEAGUE_AVG_LOOKBACK_DAYS)))
    sums = cv.entity_sums(codes, recent, zone_values, n_teams)
    games = np.bincount(codes[recent & (codes >= 0)], minlength=n_teams)
    keep = (games >= LEAGUE_AVG_MIN_TEAM_GAMES) & (sums[:, 1::2] > 0).all(axis=1)
    if keep.sum() >= LEAGUE_AVG_MIN_TEAMS:
        kept = sums[keep]
        return {label: float((kept[:, 2 * i] / kept[:, 2 * i + 1]).sum() / len(kept))
                for i, (label, _, _) in enumerate(ZONES)}, None  # fmt: skip
    return dict(DEFAULT_AVGS), f"League averages defaulted ({int(keep.sum())}/{LEAGUE_AVG_MIN_TEAMS} teams qualified)"


def zone_label_arrays(vs: np.ndarray) -> tuple[list[str | None], list[str | None]]:
    """(strongest, weakest) per row of vs (rows x zones, NaN = NULL) from the stored 2-decimal
    values; ties go to the first zone of ZONES, a row without any value gets (None, None)."""
    stored = round_half_away_array(vs.ravel(), 2).reshape(vs.shape)
    missing = np.isnan(stored)
    strongest = np.where(missing, np.inf, stored).argmin(axis=1)
    weakest = np.where(missing, -np.inf, stored).argmax(axis=1)
    labels = [label for label, _, _ in ZONES]
    none = missing.all(axis=1)
    return ([None if x else labels[i] for x, i in zip(none, strongest)],
            [None if x else labels[i] for x, i in zip(none, weakest)])  # fmt: skip


def zone_labels(vs: Mapping[str, float | None]) -> tuple[str | None, str | None]:
    """(strongest, weakest) of one team (see `zone_label_arrays`)."""
    row = np.array([[np.nan if is_null(vs[label]) else vs[label] for label, _, _ in ZONES]], dtype="float64")
    strongest, weakest = zone_label_arrays(row)
    return strongest[0], weakest[0]


def quality_tier(games: int) -> str:
    """'high' for a full window, 'medium' for 10..14 games, else 'low'."""
    if games >= TEAM_DEFENSE_MIN_GAMES:
        return "high"
    return "medium" if games >= 10 else "low"


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN (NULL) where den is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)


def team_rows(teams: list[str], window: WindowArrays, codes: np.ndarray, mask: np.ndarray,
              avgs: Mapping[str, float], league_note: str | None) -> dict[str, Any]:
    """The computed (unrounded) metric columns of the qualified teams' rows (spec §2.4-§2.7).

    `codes` index `teams`, `mask` selects each team's window rows of `window` (history order).
    """
    n = len(teams)
    sums = cv.entity_sums(codes, mask, np.column_stack([window.counts, window.missing_zone]), n)
    agg = {c: sums[:, j] for j, c in enumerate(COUNT_COLUMNS)}
    g = np.bincount(codes[mask & (codes >= 0)], minlength=n)
    k = sums[:, -1].astype("int64")
    rated = np.where(mask, codes, -1)
    means = cv.entity_aggregate("mean", rated, {"defensive_rating": window.rating, "opponent_pace": window.pace}, n)
    pct = {label: _ratio(agg[m], agg[a]) for label, m, a in ZONES}
    vs = {label: (pct[label] - avgs[label]) * 100 for label in pct}
    strongest, weakest = zone_label_arrays(np.column_stack([vs[label] for label, _, _ in ZONES]))
    notes = []
    for pa, ma, ta, ki, gi in zip(agg["opp_paint_attempts"].tolist(), agg["opp_mid_range_attempts"].tolist(),
                                  agg["opp_three_pt_attempts"].tolist(), k.tolist(), g.tolist()):  # fmt: skip
        parts = [text for cond, text in (
            (pa == 0, "No paint attempts"),
            (ma == 0, "No mid-range attempts"),
            (ta == 0, "No three-point attempts"),
            (ki > 0, f"{ki} of {gi} games missing zone data"),
            (league_note is not None, league_note),
        ) if cond]  # fmt: skip
        notes.append("; ".join(parts) if parts else None)
    return {
        "team_abbr": teams,
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
        "defensive_rating_last_15": means["defensive_rating"],
        "opponent_points_per_game": agg["points_allowed"] / g,
        "opponent_pace": means["opponent_pace"],
        "games_in_sample": g,
        "strongest_zone": strongest,
        "weakest_zone": weakest,
        "data_quality_tier": [quality_tier(x) for x in g.tolist()],
        "calculation_notes": notes,
        "source_team_defense_last_updated": cv.entity_latest(codes, mask, window.stamps, n),
        "source_team_defense_rows_found": g,
        "source_team_defense_hash": None,
        "_missing_zone": k,
    }  # fmt: skip


def history_rows(tdgs: pd.DataFrame, day: dt.date, opening: dt.date,
                 schedule: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Positions in `tdgs` of the `history` rows with a team (grouped by team in sorted order,
    newest first), each row's team code and the teams (sorted) the codes index.

    The shared rules on arrays: season(D) rows with opening night <= game_date < D, one row per
    (team, game_date), repeats resolved by `dedup_latest`. In the window no date is NaT and, once
    de-duplicated, no (team, date) repeats, so one (team, date) sort fixes the order. Frames
    without a unique index, or with teams that are not all text, take the shared `history`."""
    dates = tdgs["game_date"].to_numpy()
    if dates.dtype != np.dtype("datetime64[ns]") or not tdgs.index.is_unique:
        return _shared_history_rows(tdgs, day, schedule)
    years = tdgs["season_year"].to_numpy()
    seasons = years if years.dtype == np.float64 and not np.isnan(years).any() else cv.row_seasons(tdgs).to_numpy()
    window = (seasons == season_of(day)) & (dates >= np.datetime64(pd.Timestamp(opening)))
    sel = np.flatnonzero(window & (dates < np.datetime64(pd.Timestamp(day))))
    keys = tdgs[KEY].to_numpy(dtype=object)[sel]
    sel = sel[~pd.isna(keys)]  # a NULL team's rows belong to no team (and repeat only among themselves)
    codes, uniques = pd.factorize(keys[~pd.isna(keys)])
    teams = uniques.tolist()
    if not all(type(t) is str for t in teams):
        return _shared_history_rows(tdgs, day, schedule)
    ints = dates[sel].view("int64")
    date_codes, date_uniques = pd.factorize(ints)
    pair = codes.astype("int64") * len(date_uniques) + date_codes
    repeated = np.bincount(pair, minlength=len(teams) * len(date_uniques))[pair] > 1
    if repeated.any():
        winners = tdgs.index.get_indexer(cv.dedup_latest(tdgs.take(sel[repeated]), KEY).index)
        kept = np.sort(np.concatenate([np.flatnonzero(~repeated), np.searchsorted(sel, winners)]))
        sel, codes, ints = sel[kept], codes[kept], ints[kept]
    rank = np.empty(len(teams), dtype="int64")
    rank[np.argsort(np.array(teams, dtype=object), kind="stable")] = np.arange(len(teams))
    order = np.lexsort((-ints, rank[codes]))
    return sel[order], rank[codes[order]], sorted(teams)


def _shared_history_rows(tdgs: pd.DataFrame, day: dt.date,
                         schedule: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`history_rows` through the shared `history` (the general path)."""
    rows = cv.history_positions(tdgs, KEY, day, schedule).index.to_numpy()
    keys = tdgs[KEY].to_numpy(dtype=object)[rows]
    rows = rows[~pd.isna(keys)]
    codes, teams = pd.factorize(keys[~pd.isna(keys)], sort=True)
    return rows, codes.astype("int64"), teams.tolist()


class WindowArrays(NamedTuple):
    """The `history` columns the computation reads, as arrays (rows in history order)."""

    keys: np.ndarray  #: defending_team_abbr (object)
    dates: np.ndarray  #: game_date (datetime64)
    counts: np.ndarray  #: COUNT_COLUMNS (rows x 11, float64, NaN = NULL)
    missing_zone: np.ndarray  #: 1.0 where any zone attempts column is NULL
    rating: np.ndarray  #: defensive_rating
    pace: np.ndarray  #: opponent_pace
    stamps: pd.Series  #: processed_at

    @classmethod
    def of(cls, tdgs: pd.DataFrame, rows: np.ndarray) -> WindowArrays:
        """The `history` rows at positions `rows` of `tdgs` (`history_rows`: NULL teams already
        dropped), each column read once from the season frame and taken by position."""
        keys = tdgs[KEY].to_numpy(dtype=object)[rows]
        counts = np.column_stack([tdgs[c].to_numpy(dtype="float64") for c in COUNT_COLUMNS])[rows]
        attempts = [COUNT_COLUMNS.index(c) for c in ATTEMPT_COLUMNS]
        missing_zone = np.isnan(counts[:, attempts]).any(axis=1).astype("float64")
        return cls(keys, tdgs["game_date"].to_numpy()[rows], counts, missing_zone,
                   tdgs["defensive_rating"].to_numpy(dtype="float64")[rows],
                   tdgs["opponent_pace"].to_numpy(dtype="float64")[rows], tdgs["processed_at"].take(rows))  # fmt: skip


def compute(
    analysis_date: dt.date,
    inputs: Mapping[str, pd.DataFrame | list[dict]],
    run_timestamp: dt.datetime | None = None,
) -> ProcessorResult:
    """Rows of `team_defense_zone_analysis` for D = analysis_date (spec Part 2)."""
    frames = read_declared(inputs, SPEC.inputs)
    out_spec = table(OUTPUT)
    schedule = frames[SCHEDULE]
    opening = cv.opening_night(schedule, season_of(analysis_date))  # once: bootstrap and history
    if 0 <= (analysis_date - opening).days < BOOTSTRAP_DAYS:
        return cv.bootstrap_result(analysis_date, schedule, out_spec)
    run_ts = resolve_run_timestamp(run_timestamp)

    tdgs = frames[TDGS]
    rows, team_codes, teams = history_rows(tdgs, analysis_date, opening, schedule)
    hist = WindowArrays.of(tdgs, rows)
    team_dates = cv.team_final_dates(schedule, analysis_date)
    scheduled = team_dates["team"].to_numpy(dtype=object)
    universe = sorted(set(scheduled[~pd.isna(scheduled)].tolist()) | set(teams))

    where = {team: i for i, team in enumerate(universe)}
    codes = np.array([where[t] for t in teams], dtype="int64")[team_codes]
    in_window = cv.rank_in_order(codes) < TEAM_DEFENSE_WINDOW_GAMES
    games = np.bincount(codes[in_window], minlength=len(universe))
    ok, qualified, skipped = cv.qualify(universe, games, TEAM_DEFENSE_MIN_GAMES, "games")
    if not qualified:
        base = f"0/{len(universe)} teams have {TEAM_DEFENSE_MIN_GAMES} games"
        return cv.no_rows_result(out_spec, base, team_dates, TEAM_DEFENSE_MIN_GAMES, skipped, len(universe))

    # the universe is sorted and holds every team of the history: the league's team order
    avgs, league_note = league_average_arrays(codes, hist.dates, hist.counts[:, :6], len(universe), analysis_date)
    w_codes = np.where(ok, np.cumsum(ok) - 1, -1)[codes]  # universe position -> qualified position
    rows = team_rows(qualified, hist, w_codes, in_window, avgs, league_note)
    comp = cv.completeness(
        pd.DataFrame({"entity": qualified, "team": qualified}, dtype=object),  # object: no text inference
        pd.DataFrame({"entity": pd.Series(hist.keys, dtype=object), "game_date": hist.dates}, copy=False),
        team_dates,
        day=analysis_date,
        last_games=TEAM_DEFENSE_WINDOW_GAMES,
    )
    rows.update(cv.zone_bookkeeping(comp, rows.pop("_missing_zone"), "source_team_defense_completeness_pct",
                                    analysis_date, run_ts))  # fmt: skip
    rows = cv.finalize_dict(rows, len(qualified), out_spec, HASH_FIELDS)
    return cv.checked_result(rows, out_spec, skipped=skipped, eligible=len(universe))


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
)
