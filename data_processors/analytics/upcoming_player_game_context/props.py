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


def _ns(times: pd.Series) -> list[int | None]:
    """Epoch nanoseconds of a datetime column, None for NaT (plain ints sort fast in Python)."""
    nat = np.iinfo(np.int64).min
    return [None if v == nat else v for v in times.array.asi8.tolist()]


def _first_ns(v: int | None, ascending: bool) -> tuple[int, int]:
    """Sort key of a timestamp with NaT last in either direction."""
    return (1, 0) if v is None else (0, v if ascending else -v)


def odds_lines(rows: pd.DataFrame) -> dict[str, dict[str, object]]:
    """One entry per Odds API key: chosen game (sid, multiple_games), book b*, current and opening lines.

    The same-date rows are few (hundreds), so plain Python over column lists beats a dozen
    pandas groupbys, merges and sorts per call; every ordering mirrors spec Step 3.

    Args:
        rows: eligible_odds output.
    """
    if rows.empty:
        return {}
    keys, sids, books = rows["key"].tolist(), rows["sid"].tolist(), rows["bookmaker"].tolist()
    snap, upd, proc = _ns(rows["snapshot_timestamp"]), _ns(rows["bookmaker_last_update"]), _ns(rows["processed_at"])
    line = rows["points_line"].to_numpy(dtype="float64").tolist()
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(key, []).append(i)
    nan = float("nan")
    out: dict[str, dict[str, object]] = {}
    newest: list[int] = []
    for key in sorted(by_key):
        idx = by_key[key]
        counts: dict[str, int] = {}
        for i in idx:
            counts[sids[i]] = counts.get(sids[i], 0) + 1
        sid = min(counts, key=lambda s: (-counts[s], s))
        in_game = [i for i in idx if sids[i] == sid]
        last_snap: dict[str, int | None] = {}
        for i in in_game:
            b = books[i]
            if not isinstance(b, str):
                continue  # a NULL bookmaker forms no book (groupby drops it)
            prev, v = last_snap.get(b), snap[i]
            last_snap[b] = v if prev is None or (v is not None and v > prev) else prev
        entry: dict[str, object] = {"sid": sid, "multiple_games": len(counts) > 1}
        if last_snap:
            book = min(last_snap, key=lambda b: (_PRIORITY.get(b.strip().lower(), 3), *_first_ns(last_snap[b], False), b))
            of_book = [i for i in in_game if books[i] == book]
            current = min(of_book, key=lambda i: (*_first_ns(snap[i], False), *_first_ns(upd[i], False), line[i] != line[i], 0.0 if line[i] != line[i] else line[i], i))
            opening = min(of_book, key=lambda i: (*_first_ns(snap[i], True), *_first_ns(upd[i], True), line[i] != line[i], 0.0 if line[i] != line[i] else line[i], i))
            source = "odds_api:" + str(book)
            entry.update(current_line=line[current], opening_line_value=line[opening], current_source=source, opening_source=source)
        else:
            entry.update(current_line=nan, opening_line_value=nan, current_source=nan, opening_source=nan)
        entry["props_rows"] = len(idx)
        newest.append(max(idx, key=lambda i: (proc[i] is not None, proc[i] or 0)))
        out[key] = entry
    for entry, stamp in zip(out.values(), rows["processed_at"].iloc[newest].tolist()):
        entry["props_last_updated"] = stamp
    return out


def _first_float(v: float, ascending: bool = True) -> tuple[bool, float]:
    """Sort key of a float with NaN last in either direction."""
    return (True, 0.0) if v != v else (False, v if ascending else -v)


def _first_text(v: object, ascending: bool) -> tuple[int, str]:
    """Sort key of a string with NULL last; descending order via a reversed-order wrapper."""
    if not isinstance(v, str):
        return (1, "")
    return (0, v) if ascending else (0, _Desc(v))


class _Desc(str):
    """A string that sorts in reverse order (descending tie-break on file paths)."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:  # type: ignore[override]
        return str.__lt__(self, other)


def _source(book: object) -> object:
    """'bettingpros:<book>', NaN for a NULL book (as the column arithmetic gave)."""
    return "bettingpros:" + book if isinstance(book, str) else float("nan")


def bettingpros_picks(rows: pd.DataFrame) -> tuple[dict[str, dict[str, object]], dict[str, dict[str, object]]]:
    """Per BettingPros key: r* (team, bp_event_id) and the line entry (current/opening line and sources).

    r* order: priority ASC, is_best_line DESC, bookmaker_last_update DESC, book_id, points_line,
    file DESC (NULLs last); the opening fallback is the earliest row of r*'s book. Plain Python over
    the few hundred same-date rows (see odds_lines).
    """
    if rows.empty:
        return {}, {}
    keys, books, files = rows["key"].tolist(), rows["bookmaker"].tolist(), rows["source_file_path"].tolist()
    book_ids = rows["book_id"].to_numpy(dtype="float64").tolist()
    points = rows["points_line"].to_numpy(dtype="float64").tolist()
    best = rows["is_best_line"].fillna(False).astype(bool).to_numpy().tolist()
    upd, proc = _ns(rows["bookmaker_last_update"]), _ns(rows["processed_at"])
    teams, events = rows["team"].tolist(), rows["bp_event_id"].to_numpy(dtype="float64").tolist()
    opening_lines = rows["opening_line"].to_numpy(dtype="float64").tolist()
    opening_ids = rows["opening_book_id"].to_numpy(dtype="float64").tolist()
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(key, []).append(i)
    chosen: dict[str, dict[str, object]] = {}
    lines: dict[str, dict[str, object]] = {}
    newest: list[int] = []
    for key in sorted(by_key):
        idx = by_key[key]
        r = min(
            idx,
            key=lambda i: (
                _PRIORITY.get(books[i].strip().lower(), 3) if isinstance(books[i], str) else 3,
                not best[i],
                *_first_ns(upd[i], False),
                *_first_float(book_ids[i]),
                *_first_float(points[i]),
                *_first_text(files[i], False),
                i,
            ),
        )
        chosen[key] = {"team": teams[r], "bp_event_id": events[r]}
        current_source = _source(books[r])
        if opening_lines[r] == opening_lines[r]:
            opening = opening_lines[r]
            opening_source = _source(book_name(opening_ids[r], books[r]))
        else:
            same = [i for i in idx if book_ids[i] == book_ids[r] or (book_ids[i] != book_ids[i] and book_ids[r] != book_ids[r])]
            opening = points[min(same, key=lambda i: (*_first_ns(upd[i], True), *_first_text(files[i], True), i))]
            opening_source = current_source
        lines[key] = {
            "current_line": points[r], "opening_line_value": opening,
            "current_source": current_source, "opening_source": opening_source, "props_rows": len(idx),
        }
        newest.append(max(idx, key=lambda i: (proc[i] is not None, proc[i] or 0)))
    for entry, stamp in zip(lines.values(), rows["processed_at"].iloc[newest].tolist()):
        entry["props_last_updated"] = stamp
    return chosen, lines
