"""Player points props of both sources (B.9), built vectorized from the simulated rotations (pure).

Inputs are the "candidates": one row per (player, game) that books would price, with the
player's latent scoring mean. Internal columns start with "_" and are dropped by the caller.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nba_backfill.sample_data.calendar import VARIANTS

ODDS_START = dt.date(2023, 5, 3)
BP_GAP_DATES = (dt.date(2021, 12, 6), dt.date(2024, 1, 8))
PROCESSING_DATE = dt.date(2025, 11, 1)
MARKETS = (("points", 156), ("rebounds", 157), ("assists", 151), ("threes", 162), ("blocks", 160), ("steals", 161))
#: (book_id, display name): consensus first, then DraftKings, FanDuel, then the others.
BOOKS = ((0, "BettingPros Consensus"), (12, "DraftKings"), (10, "FanDuel"), (19, "BetMGM"), (13, "Caesars"),
         (18, "BetRivers"), (14, "PointsBet"), (24, "bet365"), (27, "PartyCasino"), (15, "SugarHouse"))
_PRICES = np.array([-130, -125, -120, -118, -115, -112, -110, -110, -108, -105, -102, 100, 102, 105, 110])


class DayRng:
    """Per-date sub-streams: a draw over rows sorted by date uses each date's own generator,
    so a date's values never depend on how many rows other dates have (prefix consistency)."""

    def __init__(self, seed: int, season: int, component: int) -> None:
        self._key = (season, component)
        self._seed = seed
        self._gens: dict[int, np.random.Generator] = {}

    def _gen(self, ordinal: int) -> np.random.Generator:
        if ordinal not in self._gens:
            ss = np.random.SeedSequence(self._seed, spawn_key=(*self._key, int(ordinal)))
            self._gens[ordinal] = np.random.Generator(np.random.PCG64(ss))
        return self._gens[ordinal]

    def draw(self, ords: np.ndarray, fn: Callable[[np.random.Generator, int], np.ndarray]) -> np.ndarray:
        ords = np.asarray(ords)
        if len(ords) == 0:
            return fn(np.random.Generator(np.random.PCG64(0)), 0)
        cuts = np.flatnonzero(ords[1:] != ords[:-1]) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(ords)]])
        return np.concatenate([fn(self._gen(int(ords[a])), int(b - a)) for a, b in zip(starts, ends)])

    def random(self, ords: np.ndarray, cols: int = 0) -> np.ndarray:
        return self.draw(ords, lambda g, k: g.random((k, cols)) if cols else g.random(k))

    def integers(self, ords: np.ndarray, lo: int, hi: int) -> np.ndarray:
        return self.draw(ords, lambda g, k: g.integers(lo, hi, k))

    def uniform(self, ords: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return self.draw(ords, lambda g, k: g.uniform(lo, hi, k))

    def normal(self, ords: np.ndarray, sd: float) -> np.ndarray:
        return self.draw(ords, lambda g, k: g.normal(0.0, sd, k))

    def choice(self, ords: np.ndarray, values: Sequence[Any] | np.ndarray, p: Sequence[float] | None = None) -> np.ndarray:
        arr = np.asarray(values)
        return self.draw(ords, lambda g, k: arr[g.choice(len(arr), k, p=p)])


def half_line(latent: np.ndarray, rng: DayRng, ords: np.ndarray) -> np.ndarray:
    """Round to .5 lines: about 85% x.5, 15% whole numbers, within 3.5-45.5."""
    whole = rng.random(ords) < 0.15
    line = np.where(whole, np.round(latent), np.floor(latent) + 0.5)
    return np.clip(line, 3.5, 45.5)


def american(decimal: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(decimal >= 2.0, np.round((decimal - 1) * 100), np.round(-100 / (decimal - 1))).astype(np.int64)


def utc(day: dt.date, hour_et: float, zone: object) -> pd.Timestamp:
    """An Eastern wall-clock time on `day` as a UTC timestamp."""
    h, m = int(hour_et), int(round((hour_et % 1) * 60))
    return pd.Timestamp(dt.datetime(day.year, day.month, day.day, h, m), tz=zone).tz_convert("UTC")  # type: ignore[arg-type]


def odds_api_rows(cand: pd.DataFrame, rng: DayRng) -> pd.DataFrame:
    """Odds API rows for candidates on dates >= 2023-05-03 (`cand` sorted by date)."""
    c = cand[(cand["_day"] >= ODDS_START) & cand["_odds"]].reset_index(drop=True)
    if c.empty:
        return pd.DataFrame()
    o = c["_ord"].to_numpy()
    n = len(c)
    first = ~c["game_id"].duplicated().to_numpy()
    gcode, _ = pd.factorize(c["game_id"])
    go = o[first]
    early = (rng.random(go) < 0.10)[gcode]
    early_min = rng.integers(go, 540, 721)[gcode]
    ingame = (rng.random(go) < 0.03)[gcode]
    ingame_min = -rng.integers(go, 10, 91)[gcode]
    parts = []
    for book, share in (("draftkings", 0.95), ("fanduel", 0.85), ("betmgm", 0.05)):
        has = rng.random(o) < share
        base = c["_line"].to_numpy() + rng.choice(o, [0.0, 0.0, 0.0, 0.5, -0.5])
        moved = np.where(rng.random(o) < 0.4, rng.choice(o, [-1.0, -0.5, 0.5, 1.0]), 0.0)
        live = rng.choice(o, [-4.0, -3.0, -2.0, 2.0, 2.5, 3.5])
        for mask, mins, shift in ((np.ones(n, bool), np.full(n, 120), np.zeros(n)), (early, early_min, moved),
                                  (ingame, ingame_min, live)):
            keep = has & mask
            part = c[keep].copy()
            part["bookmaker"] = book
            part["minutes_before_tipoff"] = mins[keep]
            part["points_line"] = np.clip(base[keep] + shift[keep], 0.5, 60.0)
            parts.append(part)
    out = pd.concat(parts, ignore_index=True).sort_values(["_ord", "_gi", "_pid", "bookmaker", "minutes_before_tipoff"],
                                                          kind="stable").reset_index(drop=True)
    o = out["_ord"].to_numpy()
    out["game_start_time"] = out["_tip_utc"]
    out["snapshot_timestamp"] = out["_tip_utc"] - pd.to_timedelta(out["minutes_before_tipoff"], unit="m")
    out["snapshot_tag"] = "snap-" + out["snapshot_timestamp"].dt.strftime("%H%M")
    out["capture_timestamp"] = out["snapshot_timestamp"]
    out["bookmaker_last_update"] = out["snapshot_timestamp"] - pd.to_timedelta(rng.integers(o, 1, 31), unit="m")
    over, under = np.round(rng.uniform(o, 1.87, 1.95), 2), np.round(rng.uniform(o, 1.87, 1.95), 2)
    out["over_price"], out["under_price"] = over, under
    out["over_price_american"], out["under_price_american"] = american(over), american(under)
    out["player_name"] = np.where(out["_odds_plain"], out["_plain_name"], out["_name"])
    out["player_lookup"] = out["_key"].where(rng.random(o) >= 0.005, None)
    out["odds_api_event_id"] = out["game_id"].map(lambda g: hashlib.md5(g.encode()).hexdigest())
    out["game_date"] = out["_day"]
    out["home_team_abbr"], out["away_team_abbr"] = out["_home"], out["_away"]
    out["source_file_path"] = ("odds-api/player-props-history/" + out["_day"].astype(str) + "/"
                               + out["odds_api_event_id"] + "/" + out["snapshot_tag"] + ".json")
    out["data_source"] = "historical"
    return out


def _market_means(c: pd.DataFrame) -> np.ndarray:
    """Latent means per candidate and market (columns in MARKETS order)."""
    f = c["_exp_min"].to_numpy() / 36.0
    return np.column_stack([
        c["_latent"].to_numpy(), f * 6.2 * c["_reb"].to_numpy(), f * 3.8 * c["_ast"].to_numpy(),
        c["_latent"].to_numpy() * 0.11, f * 0.8 * c["_blk"].to_numpy(), f * 1.0 * c["_stl"].to_numpy(),
    ])


def bettingpros_rows(cand: pd.DataFrame, season: int, rng: DayRng) -> pd.DataFrame:
    """BettingPros rows for candidates flagged `_bp` (all markets, books, sides and scrapes)."""
    c = cand[cand["_bp"] & ~cand["_day"].isin(BP_GAP_DATES)].reset_index(drop=True)
    if c.empty:
        return pd.DataFrame()
    o = c["_ord"].to_numpy()
    extra = rng.random(o) < 0.7
    minor = rng.random(o) < 0.2
    has_market = np.column_stack([np.ones(len(c), bool), extra, extra, extra, minor, minor])
    means = _market_means(c)
    mode = rng.choice(o, [0, 1, 2], p=[0.92, 0.05, 0.03])  # normal, no DK/FD, consensus only
    dropout = (rng.random(o) < 0.02) & ~c["_top"].to_numpy()
    pi, mi = np.nonzero(has_market)
    po = o[pi]
    pm = len(pi)
    pm_mode = mode[pi]
    k = rng.integers(po, 3, 7)
    dk = (pm_mode == 0) & (rng.random(po) < 0.92)
    fd = (pm_mode == 0) & (rng.random(po) < 0.87)
    need = k - dk - fd
    prio = rng.random(po, 7)
    if season >= 2024:
        prio[:, 3] = np.inf  # PointsBet only through 2023-24
    rank = np.argsort(np.argsort(prio, axis=1, kind="stable"), axis=1, kind="stable")
    incl = np.column_stack([np.ones(pm, bool), dk, fd, rank < need[:, None]])
    incl[pm_mode == 2, 1:] = False
    latent = means[pi, mi] + rng.normal(po, 1.0) * np.where(mi == 0, 1.5, 0.6)
    consensus = np.where(mi == 0, half_line(latent, rng, po), np.floor(np.maximum(latent, 0.0)) + 0.5)
    ids = np.array([b for b, _ in BOOKS])
    open_book = np.where(rng.random(po) < 0.4, 0, ids[np.argmax(incl[:, 1:], axis=1) + 1])
    open_book = np.where(pm_mode == 2, 0, open_book)
    rp, rb = np.nonzero(incl)
    ro = po[rp]
    line = np.maximum(consensus[rp] + np.where(rb == 0, 0.0, rng.choice(ro, [0, 0, 0, 0, 0.5, -0.5, 1.0, -1.0])), 0.5)
    upd = rng.uniform(ro, 9.0, 18.0)
    rows = pd.DataFrame({"_pm": np.repeat(rp, 2), "_book": np.repeat(rb, 2), "points_line": np.repeat(line, 2),
                         "bet_side": np.tile(np.array(["over", "under"], dtype=object), len(rp)),
                         "_update_h": np.repeat(upd, 2)})
    pmi = rows["_pm"].to_numpy()
    mo = po[pmi]
    ci = pi[pmi]
    rows["odds_american"] = rng.choice(mo, _PRICES)
    has_open = rng.random(mo) < 0.85
    opening = np.maximum(consensus[pmi] + rng.choice(mo, [0, 0, 0.5, -0.5, 1.0, -1.0]), 0.5)
    rows["opening_line"] = np.where(has_open, opening, np.nan)
    rows["opening_book_id"] = pd.Series(open_book[pmi], dtype="Int64").where(has_open, pd.NA)
    rows["opening_odds"] = pd.Series(rng.choice(mo, _PRICES), dtype="Int64").where(has_open, pd.NA)
    rows["_open_prev"] = np.repeat(rng.random(po) < 0.5, 1)[pmi]
    rows["_open_h"] = rng.uniform(po, 7.0, 11.0)[pmi]
    cons_over = (rows["_book"].to_numpy() == 0) & (rows["bet_side"].to_numpy() == "over")
    inactive = (rng.random(mo) < 0.065) & ~cons_over
    rows["is_active"] = ~(inactive | dropout[ci])
    rows["_ci"], rows["_mi"] = ci, mi[pmi]
    # best price per (player-market, side) among books, never the consensus: 1-2 books
    second_best = rng.random(mo) < 0.3
    rows["_g"] = pmi * 2 + (rows["bet_side"].to_numpy() == "under")
    rows["_price"] = np.where(rows["_book"].to_numpy() == 0, -10**6, rows["odds_american"].to_numpy())
    rows["_second"] = second_best
    rows = rows.sort_values(["_g", "_price", "_book"], ascending=[True, False, True], kind="stable")
    rank_in = rows.groupby("_g").cumcount().to_numpy()
    rows["is_best_line"] = (rows["_price"].to_numpy() > -10**6) & ((rank_in == 0) | ((rank_in == 1) & rows["_second"].to_numpy()))
    rows = rows.sort_values(["_pm", "_book", "bet_side"], kind="stable").reset_index(drop=True)
    return _bp_scrapes(c, rows, rng)


def _bp_scrapes(c: pd.DataFrame, rows: pd.DataFrame, rng: DayRng) -> pd.DataFrame:
    """Attach candidate columns, and duplicate ~15% of dates as a second scrape file."""
    ci = rows["_ci"].to_numpy()
    for col in ("_ord", "_day", "_pid", "_gi", "_name", "_bp_key", "_bp_team", "_event", "_position"):
        rows[col] = c[col].to_numpy()[ci]
    days = np.unique(rows["_ord"].to_numpy())
    second = dict(zip(days.tolist(), (rng.random(days) < 0.15).tolist()))
    gap_h = dict(zip(days.tolist(), rng.uniform(days, 2.0, 4.0).tolist()))
    rows["scrape"] = 1
    dup = rows[rows["_ord"].map(second).to_numpy(dtype=bool)].copy()
    dup["scrape"] = 2
    dup["_update_h"] = dup["_update_h"] + dup["_ord"].map(gap_h).to_numpy(dtype=float)
    over = dup["bet_side"].to_numpy() == "over"
    do = dup["_ord"].to_numpy()[over]
    move = np.where(rng.random(do) < 0.3, rng.choice(do, [-0.5, 0.5]), 0.0)
    dup["points_line"] = np.maximum(dup["points_line"].to_numpy() + np.repeat(move, 2), 0.5)  # same move both sides
    out = pd.concat([rows, dup], ignore_index=True)
    ids = np.array([b for b, _ in BOOKS])
    names = np.array([nm for _, nm in BOOKS], dtype=object)
    out["book_id"] = ids[out["_book"].to_numpy()]
    out["bookmaker"] = names[out["_book"].to_numpy()]
    out["market_type"] = np.array([mk for mk, _ in MARKETS], dtype=object)[out["_mi"].to_numpy()]
    out["market_id"] = np.array([i for _, i in MARKETS])[out["_mi"].to_numpy()]
    out["bp_event_id"] = out["_event"]
    out["bp_player_id"] = out["_pid"] + 10000
    out["offer_id"] = (out["_event"].astype(str) + "-" + out["market_id"].astype(str) + "-"
                       + out["bp_player_id"].astype(str))
    out["player_name"] = out["_name"]
    out["player_lookup"] = out["_bp_key"]
    out["player_team"] = out["_bp_team"]
    out["player_position"] = out["_position"]
    return out


def bp_team_codes(team: np.ndarray, later: np.ndarray, ords: np.ndarray, rng: DayRng) -> np.ndarray:
    """player_team as the source reports it: later team, ~1% FA, <=0.5% variant codes."""
    out = np.where(later != "", later, team).astype(object)
    u = rng.random(ords)
    out = np.where(u < 0.01, "FA", out)
    variant = np.array([VARIANTS.get(t, t) for t in out], dtype=object)
    return np.where((u >= 0.01) & (u < 0.014), variant, out)


def validation(days: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """validation_confidence and notes by |2025-11-01 - game date| (tables.md §3.3), per row."""
    uniq = pd.Series(pd.unique(days))
    gap = np.array([abs((PROCESSING_DATE - d).days) for d in uniq])
    conf = np.select([gap == 0, gap <= 7, gap <= 30, gap <= 365], [0.95, 0.7, 0.5, 0.3], 0.1)
    notes = np.array([f"freshness check: {g} days between game and processing" for g in gap], dtype=object)
    pos = pd.Index(uniq).get_indexer(days)
    return conf[pos], notes[pos]
