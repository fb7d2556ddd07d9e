"""Per-player prop line selection from the Odds API and BettingPros (spec Steps 1-3), pure pandas.

Eligible rows are keyed by the canonical key re-derived from `player_name` (suffixes kept).
Book priority: DraftKings > FanDuel > any other book > BettingPros Consensus.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .games import Game
from .keys import map_teams, prop_keys

#: BettingPros book ids (tables.md §3.3), for naming the opening book.
BOOKS = {
    0: "BettingPros Consensus", 2: "SuperBook", 10: "FanDuel", 12: "DraftKings", 13: "Caesars",
    14: "PointsBet", 15: "SugarHouse", 18: "BetRivers", 19: "BetMGM", 20: "FOX Bet", 21: "BetAmerica",
    22: "Oregon Lottery", 24: "bet365", 25: "WynnBET", 26: "Tipico", 27: "PartyCasino", 28: "UniBet",
    29: "TwinSpires", 30: "Betway", 31: "Fubo", 33: "Fanatics", 36: "ESPN Bet", 37: "Hard Rock", 49: "Fliff",
}
_PRIORITY = {"draftkings": 1, "fanduel": 2, "bettingpros consensus": 4}

LINE_COLUMNS = ["current_line", "opening_line_value", "current_source", "opening_source"]


def book_priority(bookmakers: pd.Series) -> pd.Series:
    """1 DraftKings, 2 FanDuel, 3 any other book, 4 BettingPros Consensus (case-insensitive)."""
    lowered = bookmakers.astype("object").map(lambda b: b.strip().lower() if isinstance(b, str) else "")
    return lowered.map(_PRIORITY).fillna(3).astype("int64")


def book_name(book_id: float, fallback: str) -> str:
    """Display name of a BettingPros book id; NULL id -> fallback, unknown id -> book_<id>."""
    if pd.isna(book_id):
        return fallback
    return BOOKS.get(int(book_id), f"book_{int(book_id)}")


def eligible_odds(odds: pd.DataFrame, day: dt.date, games: Iterable[Game]) -> pd.DataFrame:
    """Eligible Odds API rows of D with their key and the standard id of their game in S(D)."""
    rows = odds[odds["game_date"] == pd.Timestamp(day)]
    if rows.empty:
        return rows.assign(key=pd.Series([], dtype="object"), sid=pd.Series([], dtype="object"))
    mbt = rows["minutes_before_tipoff"]
    start, snap = rows["game_start_time"], rows["snapshot_timestamp"]
    pre_tip = (mbt >= 0) | (mbt.isna() & start.notna() & snap.notna() & (snap <= start))
    rows = rows[pre_tip.fillna(False).astype(bool)]
    pairs = {frozenset((g.home, g.away)): g.sid for g in games}
    home, away = map_teams(rows["home_team_abbr"]), map_teams(rows["away_team_abbr"])
    sid = pd.Series([pairs.get(frozenset((h, a))) for h, a in zip(home, away)], index=rows.index, dtype="object")
    rows = rows.assign(key=prop_keys(rows["player_name"], rows["player_lookup"]), sid=sid)
    return rows[(rows["key"] != "") & rows["sid"].notna()]


def eligible_bettingpros(bp: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Eligible BettingPros rows of D: points market, over side, active, stored key present."""
    mask = (
        (bp["game_date"] == pd.Timestamp(day))
        & (bp["market_type"] == "points")
        & (bp["bet_side"] == "over")
        & bp["is_active"].fillna(False).astype(bool)
        & bp["player_lookup"].notna()
    )
    rows = bp[mask]
    rows = rows.assign(
        key=prop_keys(rows["player_name"], rows["player_lookup"]),
        team=map_teams(rows["validated_team"].where(rows["validated_team"].notna(), rows["player_team"])),
    )
    return rows[rows["key"] != ""]


def odds_lines(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per Odds API key: chosen game (sid, multiple_games), book b*, current and opening lines.

    Args:
        rows: eligible_odds output.
    """
    cols = ["sid", "multiple_games", *LINE_COLUMNS, "props_rows", "props_last_updated"]
    if rows.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols}, index=pd.Index([], name="key"))
    # Only these columns are read below: narrowing first keeps every filter, merge and sort cheap.
    rows = rows[["key", "sid", "bookmaker", "snapshot_timestamp", "bookmaker_last_update", "points_line", "processed_at"]]
    per_game = rows.groupby(["key", "sid"], sort=False).size().rename("n").reset_index()
    games = per_game.sort_values(["key", "n", "sid"], ascending=[True, False, True], kind="mergesort")
    chosen = games.drop_duplicates("key").set_index("key")["sid"]
    n_games = per_game.groupby("key").size()
    in_game = rows[rows["sid"].to_numpy() == chosen.reindex(rows["key"]).to_numpy()]
    in_game = in_game.assign(priority=book_priority(in_game["bookmaker"]))
    books = (
        in_game.groupby(["key", "bookmaker"], sort=False)
        .agg(priority=("priority", "min"), last_snap=("snapshot_timestamp", "max"))
        .reset_index()
        .sort_values(["key", "priority", "last_snap", "bookmaker"], ascending=[True, True, False, True], na_position="last", kind="mergesort")
        .drop_duplicates("key")
    )
    of_book = in_game.merge(books[["key", "bookmaker"]], on=["key", "bookmaker"])
    order = ["key", "snapshot_timestamp", "bookmaker_last_update", "points_line"]
    current = of_book.sort_values(order, ascending=[True, False, False, True], na_position="last", kind="mergesort").drop_duplicates("key")
    opening = of_book.sort_values(order, ascending=[True, True, True, True], na_position="last", kind="mergesort").drop_duplicates("key")
    current, opening = current.set_index("key"), opening.set_index("key")
    source = "odds_api:" + current["bookmaker"].astype(str)
    out = pd.DataFrame(
        {
            "sid": chosen,
            "multiple_games": n_games.reindex(chosen.index) > 1,
            "current_line": current["points_line"],
            "opening_line_value": opening["points_line"].reindex(current.index),
            "current_source": source,
            "opening_source": source,
            "props_rows": rows.groupby("key").size(),
            "props_last_updated": rows.groupby("key")["processed_at"].max(),
        }
    )
    out.index.name = "key"
    return out[cols]


def bettingpros_choice(rows: pd.DataFrame) -> pd.DataFrame:
    """r* per key: priority ASC, is_best_line DESC, bookmaker_last_update DESC, book_id, points_line, file DESC."""
    if rows.empty:
        return rows.set_index("key")
    ranked = rows.assign(
        priority=book_priority(rows["bookmaker"]),
        best=rows["is_best_line"].fillna(False).astype(bool),
    )
    order = ["key", "priority", "best", "bookmaker_last_update", "book_id", "points_line", "source_file_path"]
    asc = [True, True, False, False, True, True, False]
    # Sort only the key columns, then take the chosen rows by position (sorting every column is slow).
    keys = ranked[order].reset_index(drop=True)
    first = keys.sort_values(order, ascending=asc, na_position="last", kind="mergesort").drop_duplicates("key").index
    return ranked.iloc[first.to_numpy()].set_index("key")


def bettingpros_lines(rows: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """Current and opening lines of BettingPros players from their chosen rows r* (bettingpros_choice)."""
    cols = [*LINE_COLUMNS, "props_rows", "props_last_updated"]
    if chosen.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols}, index=pd.Index([], name="key"))
    same_book = rows.merge(chosen[["book_id"]].reset_index(), on=["key", "book_id"])
    earliest = same_book.sort_values(
        ["key", "bookmaker_last_update", "source_file_path"], ascending=True, na_position="last", kind="mergesort"
    ).drop_duplicates("key").set_index("key")["points_line"]
    has_open = chosen["opening_line"].notna()
    opening_book = [
        book_name(bid, bm) for bid, bm in zip(chosen["opening_book_id"], chosen["bookmaker"])
    ]
    current_source = "bettingpros:" + chosen["bookmaker"].astype(str)
    out = pd.DataFrame(
        {
            "current_line": chosen["points_line"],
            "opening_line_value": np.where(has_open, chosen["opening_line"], earliest.reindex(chosen.index)),
            "current_source": current_source,
            "opening_source": np.where(has_open, "bettingpros:" + pd.Series(opening_book, index=chosen.index), current_source),
            "props_rows": rows.groupby("key").size(),
            "props_last_updated": rows.groupby("key")["processed_at"].max(),
        },
        index=chosen.index,
    )
    out.index.name = "key"
    return out[cols]
