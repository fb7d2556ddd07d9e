"""The player universe and its placement in D's games (spec Steps 0-4), without the context columns.

`resolve` is shared by compute() and the dry run / `props check` (availability.py), so the
number of players a dry run announces is exactly what a real run writes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import pandas as pd

from data_processors.precompute.conventions import row_seasons
from nba_backfill.dates import season_of
from nba_backfill.frames import read_declared
from nba_backfill.processor import InputSpec

from .context import PGS_COLUMNS
from .games import Game, SideFinder, eligible_games, games_on, previous_game_date
from .props import bettingpros_picks, eligible_bettingpros, eligible_odds, odds_lines

SCHEDULE = "nba_raw.nbac_schedule"
ODDS = "nba_raw.odds_api_player_points_props"
BETTINGPROS = "nba_raw.bettingpros_player_points_props"
PGS = "nba_analytics.player_game_summary"
TEAM_OFFENSE = "nba_analytics.team_offense_game_summary"
TEAM_DEFENSE = "nba_analytics.team_defense_game_summary"
REGISTRY = "nba_reference.nba_players_registry"
PLAYER_LIST = "nba_raw.nbac_player_list_current"

#: The columns read from each input (frames are narrowed to these first: every filter copies all columns).
READ_COLUMNS = {
    SCHEDULE: ["game_id", "game_date", "season_year", "game_status", "home_team_tricode", "away_team_tricode",
               "is_regular_season", "is_playoffs", "is_all_star", "processed_at"],
    ODDS: ["game_date", "game_start_time", "home_team_abbr", "away_team_abbr", "snapshot_timestamp", "minutes_before_tipoff",
           "bookmaker", "player_name", "player_lookup", "points_line", "bookmaker_last_update", "processed_at"],
    BETTINGPROS: ["game_date", "market_type", "bp_event_id", "bet_side", "player_name", "player_lookup", "player_team",
                  "validated_team", "book_id", "bookmaker", "points_line", "is_active", "is_best_line",
                  "bookmaker_last_update", "opening_line", "opening_book_id", "source_file_path", "processed_at"],
    PGS: PGS_COLUMNS,
    TEAM_OFFENSE: ["game_id", "game_date", "team_abbr", "season_year", "pace", "processed_at"],
    TEAM_DEFENSE: ["game_id", "game_date", "defending_team_abbr", "season_year", "defensive_rating", "opp_fg_attempts",
                   "opp_ft_attempts", "processed_at"],
    REGISTRY: ["universal_player_id", "player_lookup", "team_abbr", "season", "first_game_date", "processed_at"],
    PLAYER_LIST: ["player_lookup", "season_year", "birth_date", "processed_at"],
}

#: The processor's inputs: window and declared columns of each table (its SPEC.inputs).
INPUTS = (
    InputSpec(SCHEDULE, "season_to_date", columns=tuple(READ_COLUMNS[SCHEDULE])),
    InputSpec(ODDS, "same_date", columns=tuple(READ_COLUMNS[ODDS])),
    InputSpec(BETTINGPROS, "same_date", columns=tuple(READ_COLUMNS[BETTINGPROS])),
    InputSpec(PGS, "previous_season_to_date", columns=tuple(READ_COLUMNS[PGS])),
    InputSpec(TEAM_OFFENSE, "season_to_date", columns=tuple(READ_COLUMNS[TEAM_OFFENSE])),
    InputSpec(TEAM_DEFENSE, "season_to_date", columns=tuple(READ_COLUMNS[TEAM_DEFENSE])),
    InputSpec(REGISTRY, "all", columns=tuple(READ_COLUMNS[REGISTRY])),
    InputSpec(PLAYER_LIST, "all", columns=tuple(READ_COLUMNS[PLAYER_LIST])),
)

#: Tables whose D_prev presence is checked before anything is resolved (Step 0.3), in message order.
UPSTREAMS = (PGS, TEAM_OFFENSE, TEAM_DEFENSE)

MSG_NO_GAMES = "no schedule games"
MSG_NO_PROPS = "no props in either source"
MSG_UNRESOLVED = "props found but no player resolved to a game"


@dataclass
class Resolution:
    """Steps 0-4 for one date: the outcome so far, the universe and the placed players."""

    day: dt.date
    outcome: str  # ok | partial | no_games | no_props | unresolved | error
    message: str
    games: list[Game] = field(default_factory=list)
    odds_keys: set[str] = field(default_factory=set)
    bp_keys: set[str] = field(default_factory=set)
    #: One row per resolved player, indexed by key (see `_placed_frame`).
    placed: pd.DataFrame = field(default_factory=pd.DataFrame)
    unresolved: list[dict[str, str]] = field(default_factory=list)
    #: Eligible schedule games of every date (all seasons present in the input).
    all_games: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: player_game_summary rows of seasons SY-1 and SY before D (team and id fallbacks).
    recent: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def universe(self) -> set[str]:
        return self.odds_keys | self.bp_keys


def _event_games(bp: pd.DataFrame, games: list[Game]) -> dict[object, Game | None]:
    """G_ev per bp_event_id: the game most of the event's keys play in (count >= 2, strictly first).

    Plain Python over the same-date rows (hundreds); ties keep the game first seen, as a stable sort would.
    """
    by_team = {t: g for g in games for t in (g.home, g.away)}
    keys_of: dict[float, dict[str, set[str]]] = {}
    for event, key, team in zip(bp["bp_event_id"].to_numpy(dtype="float64").tolist(), bp["key"].tolist(), bp["team"].tolist()):
        game = by_team.get(team) if isinstance(team, str) else None
        if game is None or event != event or not isinstance(key, str):
            continue
        keys_of.setdefault(event, {}).setdefault(game.sid, set()).add(key)
    by_sid = {g.sid: g for g in games}
    decided: dict[object, Game | None] = {}
    for event, per_game in keys_of.items():
        ranked = sorted(per_game.items(), key=lambda item: -len(item[1]))
        top = len(ranked[0][1])
        second = len(ranked[1][1]) if len(ranked) > 1 else 0
        if top >= 2 and top > second:
            decided[event] = by_sid[ranked[0][0]]
    return decided


def upstream_problem(frames: dict[str, pd.DataFrame], prev: dt.date | None) -> str | None:
    """Step 0.3: the first upstream table without rows on D_prev, as the error message."""
    if prev is None:
        return None
    stamp = pd.Timestamp(prev)
    for name in UPSTREAMS:
        if not (frames[name]["game_date"] == stamp).any():
            return f"upstream missing: {name} has no rows for {prev.isoformat()}"
    return None


def input_frames(inputs: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """The inputs normalized by the table contract, each with just the columns this processor reads."""
    return read_declared(inputs, INPUTS)


def resolve(day: dt.date, frames: dict[str, pd.DataFrame]) -> Resolution:
    """Steps 0-4 on the frames of `input_frames`."""
    season = season_of(day)
    all_games = eligible_games(frames[SCHEDULE])
    games = games_on(all_games, day)
    bp = eligible_bettingpros(frames[BETTINGPROS], day)
    odds = eligible_odds(frames[ODDS], day, games)
    res = Resolution(day, "ok", "", games, set(odds["key"]), set(bp["key"]), all_games=all_games)
    if not games:
        res.outcome, res.message = "no_games", MSG_NO_GAMES
        return res
    problem = upstream_problem(frames, previous_game_date(all_games, day, season))
    if problem:
        res.outcome, res.message = "error", problem
        return res
    if not res.universe:
        res.outcome, res.message = "no_props", MSG_NO_PROPS
        return res
    _place(res, odds, bp, frames, season)
    if res.placed.empty:
        res.outcome, res.message = "unresolved", MSG_UNRESOLVED
    elif res.unresolved:
        res.outcome = "partial"
    return res


def _place(res: Resolution, odds: pd.DataFrame, bp: pd.DataFrame, frames: dict[str, pd.DataFrame], season: int) -> None:
    """Step 3 lines and Step 4 game/team for every key of the universe."""
    day = res.day
    by_sid = {g.sid: g for g in res.games}
    by_team = {t: g for g in res.games for t in (g.home, g.away)}
    pgs = frames[PGS]
    recent = pgs[((pgs["game_date"] < pd.Timestamp(day)) & row_seasons(pgs).isin([season - 1, season])).to_numpy()] if len(pgs) else pgs
    res.recent = recent
    finder = SideFinder.build(frames[REGISTRY], recent, day, season, res.universe)
    o_lines = odds_lines(odds)
    chosen, b_lines = bettingpros_picks(bp)
    events = _event_games(bp, res.games)
    placed: list[dict[str, object]] = []
    for key in sorted(res.universe):
        issues: list[str] = []
        r_star = chosen.get(key)
        bp_team = r_star["team"] if r_star is not None else None
        if key in res.odds_keys:
            line = o_lines[key]
            game = by_sid[line["sid"]]
            team = bp_team if bp_team in (game.home, game.away) else finder.side(key, game, issues)
            if line["multiple_games"]:
                issues.append("multiple_games")
            source, reason = "odds_api", "side_unknown"
        else:
            line = b_lines[key]
            game_t = by_team.get(bp_team) if bp_team is not None else None
            game_ev = events.get(r_star["bp_event_id"])
            source = "bettingpros"
            if game_t is not None and (game_ev is None or game_ev.sid == game_t.sid):
                game, team, reason = game_t, bp_team, ""
            elif game_ev is not None:
                game, reason = game_ev, "side_unknown"
                team = finder.side(key, game, issues)
                issues.append("bettingpros_team_mismatch")
            else:
                game, team, reason = None, None, "no_game"
        if game is None or team is None:
            res.unresolved.append({"player_lookup": key, "reason": reason})
            continue
        placed.append(
            {
                "key": key,
                "source": source,
                "sid": game.sid,
                "team": team,
                "opp": game.other(team),
                "home_game": team == game.home,
                "game_type": game.game_type,
                "issues": issues,
                **{c: line[c] for c in ("current_line", "opening_line_value", "current_source", "opening_source", "props_rows", "props_last_updated")},
            }
        )
    res.placed = pd.DataFrame(placed).set_index("key") if placed else pd.DataFrame()


def details(res: Resolution, rows: int) -> dict[str, Any]:
    """The Phase 3 result object of spec §6 for `rows` produced rows (the runner fills rows_written after a write)."""
    placed = res.placed
    produced = rows > 0 and len(placed) > 0
    sources = placed["source"].value_counts() if produced else pd.Series(dtype="int64")
    return {
        "date": res.day.isoformat(),
        "outcome": res.outcome,
        "message": res.message,
        "players_available": rows,
        "rows_written": 0,
        "games": len(res.games),
        "odds_api_players": len(res.odds_keys),
        "bettingpros_players": len(res.bp_keys),
        "both_sources": len(res.odds_keys & res.bp_keys),
        "chosen_odds_api": int(sources.get("odds_api", 0)),
        "chosen_bettingpros": int(sources.get("bettingpros", 0)),
        "unresolved": list(res.unresolved),
        "rows_with_issues": 0,
    }
