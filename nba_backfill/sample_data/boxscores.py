"""A season's game plan (matchups, winners, overtime, tips) and its simulated box scores (pure).

Winners are decided first, from a team-strength model, so play-in and playoff brackets are
known before any box score exists; the box-score simulation then walks the dates in order
from one sub-stream and nudges makes until the planned winner wins. Stopping at `through`
therefore leaves every earlier row unchanged (B.3 prefix consistency).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from nba_backfill.sample_data.calendar import (TEAMS, TRICODES, nba_play_in_id, nba_playoff_id,
                                               nba_regular_id, regular_season_games, season_calendar)
from nba_backfill.sample_data.league import C_BOX, C_PLAN, C_SCHEDULE, League, stream

CONF = {t[0]: t[4] for t in TEAMS}
_WEEKDAY_TIPS = (19.0, 19.0, 19.5, 19.5, 20.0, 20.5, 21.0, 22.0, 22.5)
_WEEKEND_TIPS = (12.0, 13.0, 15.0, 15.5, 17.0, 18.0)
#: League means per season: FGA, 3PA share, FTA/FGA.
_SEASON_SHAPE = {2021: (86.0, 1.10, 0.215), 2022: (87.5, 1.14, 0.225), 2023: (88.0, 1.18, 0.225), 2024: (88.5, 1.22, 0.22)}


@dataclass
class Game:
    day: dt.date
    nba_id: str
    away: str
    home: str
    kind: str  # "R" regular season, "I" play-in, "P" playoffs
    playoff_round: str | None
    home_wins: bool
    ot: int
    tip: float  # hours, US-Eastern

    @property
    def game_id(self) -> str:
        return f"{self.day:%Y%m%d}_{self.away}_{self.home}"


def _p_home(strength: dict[str, float], home: str, away: str) -> float:
    return float(1.0 / (1.0 + np.exp(-((strength[home] - strength[away]) * 7.0 + 0.28))))


def plan_season(league: League, season: int, seed: int) -> list[Game]:
    """Every schedule game of a season with its winner, in (date, id) order."""
    cal = season_calendar(season)
    rng = stream(seed, season, C_PLAN)
    strength = league.seasons[season].strength

    def make(day: dt.date, nba_id: str, away: str, home: str, kind: str, rnd: str | None, home_wins: bool) -> Game:
        u = rng.random()
        ot = 3 if u < 0.001 else 2 if u < 0.011 else 1 if u < 0.071 else 0
        weekend = day.weekday() >= 5
        tip = float(rng.choice(_WEEKEND_TIPS)) if weekend and rng.random() < 0.35 else float(rng.choice(_WEEKDAY_TIPS))
        return Game(day, nba_id, away, home, kind, rnd, home_wins, ot, tip)

    games: list[Game] = []
    wins = dict.fromkeys(TRICODES, 0)
    regular = regular_season_games(season, seed, C_SCHEDULE)
    numbers = list(range(1, len(regular) + 1))
    if season >= 2023:  # opening nights are 61/62 (A.2); ids are not in date order
        numbers[0], numbers[1], numbers[60], numbers[61] = 61, 62, 1, 2
    for (day, away, home), number in zip(regular, numbers):
        hw = bool(rng.random() < _p_home(strength, home, away))
        wins[home if hw else away] += 1
        games.append(make(day, nba_regular_id(season, number), away, home, "R", None, hw))
    tiebreak = rng.random(len(TRICODES))
    seeds: dict[str, list[str]] = {}
    for conf in ("East", "West"):
        teams = [t for t in TRICODES if CONF[t] == conf]
        seeds[conf] = sorted(teams, key=lambda t: (-wins[t], tiebreak[TRICODES.index(t)]))
    day1, day2, day3 = cal.play_in
    for conf, day, ids in (("East", day1, ("101", "121", "201")), ("West", day2, ("111", "131", "211"))):
        s = seeds[conf]
        hw78 = bool(rng.random() < _p_home(strength, s[6], s[7]))
        hw910 = bool(rng.random() < _p_home(strength, s[8], s[9]))
        games.append(make(day, nba_play_in_id(season, ids[0]), s[7], s[6], "I", "play_in", hw78))
        games.append(make(day, nba_play_in_id(season, ids[1]), s[9], s[8], "I", "play_in", hw910))
        seventh, loser78 = (s[6], s[7]) if hw78 else (s[7], s[6])
        w910 = s[8] if hw910 else s[9]
        hwf = bool(rng.random() < _p_home(strength, loser78, w910))
        games.append(make(day3, nba_play_in_id(season, ids[2]), w910, loser78, "I", "play_in", hwf))
        seeds[conf] = s[:6] + [seventh, loser78 if hwf else w910]
    seed_no = {t: i + 1 for conf in seeds for i, t in enumerate(seeds[conf][:8])}
    pairs = {}
    for k, conf in enumerate(("East", "West")):
        s = seeds[conf]
        for j, (a, b) in enumerate(((1, 8), (4, 5), (3, 6), (2, 7))):
            pairs[(1, 4 * k + j)] = (s[a - 1], s[b - 1])
    for rnd in (1, 2, 3, 4):
        for ser in range(8 >> (rnd - 1)):
            if rnd > 1:
                pairs[(rnd, ser)] = (pairs[(rnd - 1, 2 * ser)][2], pairs[(rnd - 1, 2 * ser + 1)][2])  # type: ignore[misc]
            a, b = pairs[(rnd, ser)][:2]
            better = (lambda t: (-wins[t], seed_no[t])) if rnd == 4 else (lambda t: (seed_no[t], -wins[t]))
            hi, lo = sorted((a, b), key=better)
            dates = cal.playoffs[(rnd, ser)]
            hi_wins_series = bool(rng.random() < _p_home(strength, hi, lo) + 0.05)
            winner, loser = (hi, lo) if hi_wins_series else (lo, hi)
            loser_games = set(rng.choice(len(dates) - 1, len(dates) - 4, replace=False).tolist())
            for g, day in enumerate(dates):
                host, guest = (hi, lo) if g in (0, 1, 4, 6) else (lo, hi)
                game_winner = loser if g in loser_games else winner
                games.append(make(day, nba_playoff_id(season, rnd, ser, g + 1), guest, host, "P", str(rnd),
                                  game_winner == host))
            pairs[(rnd, ser)] = (a, b, winner)  # type: ignore[assignment]
    games.sort(key=lambda g: (g.day, g.nba_id))
    return games


@dataclass
class BoxScores:
    """Column lists of player rows plus per-team-game facts other tables need."""

    rows: dict[str, list] = field(default_factory=dict)
    team: list[dict] = field(default_factory=list)  # one dict per team-game
    expected: list[tuple] = field(default_factory=list)  # (game idx, team, pid, exp_pts, exp_min, late_scratch)

    def add(self, **values: object) -> None:
        for k, v in values.items():
            self.rows.setdefault(k, []).append(v)


def _split(total: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    w = np.clip(weights, 1e-9, None)
    return rng.multinomial(max(int(total), 0), w / w.sum())


def _minutes(n_start: int, exp: np.ndarray, total_tenths: int, rng: np.random.Generator) -> np.ndarray:
    """Integer tenths of minutes: starters 26-40, the rest share the remainder."""
    mins = np.zeros(len(exp), dtype=np.int64)
    mins[:n_start] = np.round(np.clip(exp[:n_start] + rng.normal(0, 2.5, n_start), 26.0, 40.0) * 10)
    rest = total_tenths - int(mins[:n_start].sum())
    bench = np.clip(exp[n_start:] * rng.uniform(0.75, 1.25, len(exp) - n_start), 1.0, None)
    raw = bench / bench.sum() * rest
    base = np.floor(raw).astype(np.int64)
    extra = rest - int(base.sum())
    base[np.argsort(-(raw - base), kind="stable")[:extra]] += 1
    mins[n_start:] = base
    return mins


class _Sim:
    """Simulates the box scores of one season, date by date."""

    def __init__(self, league: League, season: int, seed: int) -> None:
        self.league, self.season = league, season
        self.sl = league.seasons[season]
        self.p = league.players
        self.rng = stream(seed, season, C_BOX)
        self.shape = _SEASON_SHAPE[season]
        self.last_day: dict[str, dt.date] = {}
        self.by_team = {t: self.sl.team_stints(t) for t in TRICODES}

    def _out(self, pid: int, day: dt.date) -> bool:
        return any(a <= day <= b for a, b in self.sl.injuries.get(pid, ()))

    def lineup(self, team: str, day: dt.date, playoff: bool) -> tuple[list[int], list[int], list[int], list[int]]:
        """(players, late scratches, DNP-listed, hardship) for one team-game."""
        rng = self.rng
        b2b = self.last_day.get(team) == day - dt.timedelta(days=1)
        roster = [s for s in self.by_team[team] if s.start <= day <= s.end]
        hard = [s.pid for s in roster if s.hardship]
        avail = sorted((s.pid for s in roster if not s.hardship and not self._out(s.pid, day)),
                       key=lambda p: -self.sl.talent[p])
        if not playoff:
            rest_p = 0.13 if b2b else 0.009
            avail = [p for i, p in enumerate(avail) if i >= 4 or rng.random() >= rest_p]
        k = int(rng.choice((8, 9, 10, 11), p=(0.1, 0.38, 0.37, 0.15))) - len(hard)
        k = max(5, min(k, len(avail)))
        playing, scratches = [], []
        for pid in avail[:k]:
            (scratches if rng.random() < 0.01 else playing).append(pid)
        spare = avail[k:]
        n_dnp = min(len(spare), int(rng.poisson(1.3)))
        return playing + hard, scratches, spare[:n_dnp], hard

    def team_box(self, pids: list[int], n_hard: int, total_tenths: int) -> dict[str, np.ndarray]:
        rng, sl, p = self.rng, self.sl, self.p
        n = len(pids)
        tal = np.array([sl.talent[x] for x in pids])
        exp = np.concatenate([24.0 + 12.0 * tal[:5], 8.0 + 26.0 * tal[5:n - n_hard] ** 1.2, np.full(n_hard, 6.0)])[:n]
        order = np.argsort(-exp[: n - n_hard], kind="stable")
        idx = np.concatenate([order, np.arange(n - n_hard, n)]).astype(int)
        pids = [pids[i] for i in idx]
        tal, exp = tal[idx], exp[idx]
        mins = _minutes(min(5, n), exp, total_tenths, rng)
        m = mins / 10.0
        usage = 0.5 + 1.35 * tal ** 1.6
        fga_total, three_scale, ftr_scale = self.shape
        fga = _split(round(rng.normal(fga_total, 4.0) * total_tenths / 2400), m * usage, rng)
        zone = np.array([p.zone[x] for x in pids]) * np.array([1.0, 1.0, three_scale])
        zone /= zone.sum(axis=1, keepdims=True)
        att = rng.multinomial(fga, zone)
        pct = np.clip(np.array([p.pct[x] for x in pids]) + (tal[:, None] - 0.5) * 0.04, 0.05, 0.95)
        made = rng.binomial(att, pct)
        r = np.array([p.rates[x] for x in pids])
        fta = rng.poisson(fga * r[:, 0] * ftr_scale / 0.25)
        ftm = rng.binomial(fta, r[:, 1])
        tov = _split(round(rng.normal(14.0, 3.0) * total_tenths / 2400), m * usage * r[:, 6], rng)
        return {"pid": np.array(pids), "min": mins, "att": att, "made": made, "fta": fta, "ftm": ftm,
                "tov": tov, "r": r, "m": m, "exp": exp, "usage": usage}

    def points(self, b: dict[str, np.ndarray]) -> int:
        made = b["made"].sum(axis=0)
        return int(2 * (made[0] + made[1]) + 3 * made[2] + b["ftm"].sum())

    def nudge(self, b: dict[str, np.ndarray], up: bool) -> None:
        """Turn one miss into a make (up) or one make into a miss."""
        rng = self.rng
        pool = (b["att"] - b["made"]) if up else b["made"]
        flat = pool.ravel().astype(float)
        if flat.sum() == 0:
            return
        i = int(rng.choice(len(flat), p=flat / flat.sum()))
        b["made"].ravel()[i] += 1 if up else -1

    def _defend(self, off: dict[str, np.ndarray], de: dict[str, np.ndarray]) -> None:
        """Rebounds, blocks and steals of `de` against `off`'s misses and turnovers (invariant 8)."""
        rng = self.rng
        miss = (off["att"] - off["made"]).sum(axis=0)
        orb = int(rng.binomial(int(miss.sum()), 0.255))
        off["orb"] = _split(orb, off["m"] * off["r"][:, 2] ** 1.5, rng)
        de["drb"] = _split(int(miss.sum()) - orb, de["m"] * de["r"][:, 2], rng)
        blk = np.zeros((len(de["pid"]), 3), dtype=np.int64)
        for z, rate in enumerate((0.10, 0.045, 0.012)):
            blk[:, z] = _split(int(rng.binomial(int(miss[z]), rate)), de["m"] * de["r"][:, 5], rng)
        de["blk"] = blk
        de["stl"] = _split(int(rng.binomial(int(off["tov"].sum()), 0.55)), de["m"] * de["r"][:, 4], rng)

    def _finish(self, b: dict[str, np.ndarray], margin: int, ot: int) -> None:
        rng = self.rng
        made = b["made"].sum(axis=1)
        b["assisted"] = rng.binomial(made, np.clip(0.75 - 0.09 * b["usage"], 0.3, 0.9))
        b["ast"] = _split(int(b["assisted"].sum()), b["m"] * b["r"][:, 3], rng)
        b["pf"] = np.minimum(6, rng.poisson(b["m"] / 48 * 3.6 * b["r"][:, 7]))
        b["and1"] = rng.binomial(b["made"][:, 0], 0.04)
        pm = np.round(margin * b["m"] / (48 + 5 * ot) + rng.normal(0, 4, len(b["m"]))).astype(np.int64)
        pm[int(np.argmax(b["m"]))] += 5 * margin - int(pm.sum())
        b["pm"] = pm

    def simulate(self, games: list[Game], through: dt.date | None) -> list[dict[str, np.ndarray]]:
        """One chunk of column arrays per team-game (players who played, then listed DNPs)."""
        chunks: list[dict[str, np.ndarray]] = []
        for gi, g in enumerate(games):
            if through is not None and g.day > through:
                break
            total = 2400 + 250 * g.ot
            sides = {}
            for team in (g.home, g.away):
                playing, scratch, dnp, hard = self.lineup(team, g.day, g.kind != "R")
                box = self.team_box(playing, len(hard), total)
                sides[team] = (box, scratch, dnp)
            for team in (g.home, g.away):
                self.last_day[team] = g.day
            bh, ba = sides[g.home][0], sides[g.away][0]
            win, lose = (bh, ba) if g.home_wins else (ba, bh)
            hi = 7 if g.ot else 10**6
            for step in range(400):
                diff = self.points(win) - self.points(lose)
                if 1 <= diff <= hi:
                    break
                small = diff < 1
                self.nudge(win if step % 2 == 0 else lose, up=(step % 2 == 0) == small)
            self._defend(bh, ba)
            self._defend(ba, bh)
            ph, pa = self.points(bh), self.points(ba)
            for team, opp, box, margin in ((g.home, g.away, bh, ph - pa), (g.away, g.home, ba, pa - ph)):
                self._finish(box, margin, g.ot)
                _, scratch, dnp = sides[team]
                chunks.append(self._chunk(gi, team, opp, box, scratch + dnp, scratch))
        return chunks

    def _chunk(self, gi: int, team: str, opp: str, b: dict[str, np.ndarray], idle: list[int],
               scratch: list[int]) -> dict[str, np.ndarray]:
        n, k = len(b["pid"]), len(idle)
        nan = np.full(k, np.nan)

        def col(values: np.ndarray) -> np.ndarray:
            return np.concatenate([np.asarray(values, dtype=float), nan])

        fga, fgm = b["att"].sum(axis=1), b["made"].sum(axis=1)
        pts = 2 * (b["made"][:, 0] + b["made"][:, 1]) + 3 * b["made"][:, 2] + b["ftm"]
        minutes = b["min"] / 10.0
        tm = minutes.sum()
        team_use = fga.sum() + 0.44 * b["fta"].sum() + b["tov"].sum()
        usage = 100 * (fga + 0.44 * b["fta"] + b["tov"]) * (tm / 5) / (minutes * team_use)
        ts_den = 2 * (fga + 0.44 * b["fta"])
        with np.errstate(divide="ignore", invalid="ignore"):
            ts = np.where(ts_den > 0, pts / ts_den, np.nan)
            efg = np.where(fga > 0, (fgm + 0.5 * b["made"][:, 2]) / fga, np.nan)
        tal = np.array([self.sl.talent[p] for p in idle]) if idle else np.zeros(0)
        out = {
            "gi": np.full(n + k, gi), "team": np.full(n + k, TRICODES.index(team)),
            "opp": np.full(n + k, TRICODES.index(opp)),
            "pid": np.concatenate([b["pid"], np.array(idle, dtype=np.int64)]).astype(np.int64),
            "starter": np.concatenate([np.arange(n) < 5, np.zeros(k, bool)]),
            "active": np.concatenate([np.ones(n, bool), np.zeros(k, bool)]),
            "scratch": np.concatenate([np.zeros(n, bool), np.isin(np.array(idle, dtype=np.int64), scratch)]),
            "exp_min": np.concatenate([b["exp"], 24.0 + 12.0 * tal]),
            "exp_use": np.concatenate([b["usage"], 0.5 + 1.35 * tal ** 1.6]),
            "points": col(pts), "minutes_played": col(minutes), "assists": col(b["ast"]),
            "offensive_rebounds": col(b["orb"]), "defensive_rebounds": col(b["drb"]), "steals": col(b["stl"]),
            "blocks": col(b["blk"].sum(axis=1)), "turnovers": col(b["tov"]), "fg_attempts": col(fga),
            "fg_makes": col(fgm), "three_pt_attempts": col(b["att"][:, 2]), "three_pt_makes": col(b["made"][:, 2]),
            "ft_attempts": col(b["fta"]), "ft_makes": col(b["ftm"]), "plus_minus": col(b["pm"]),
            "personal_fouls": col(b["pf"]), "paint_attempts": col(b["att"][:, 0]), "paint_makes": col(b["made"][:, 0]),
            "mid_range_attempts": col(b["att"][:, 1]), "mid_range_makes": col(b["made"][:, 1]),
            "paint_blocks": col(b["blk"][:, 0]), "mid_range_blocks": col(b["blk"][:, 1]),
            "three_pt_blocks": col(b["blk"][:, 2]), "and1_count": col(b["and1"]),
            "assisted_fg_makes": col(b["assisted"]), "unassisted_fg_makes": col(fgm - b["assisted"]),
            "usage_rate": col(usage), "ts_pct": col(ts), "efg_pct": col(efg),
        }
        return out


def simulate_season(league: League, season: int, seed: int, through: dt.date | None) -> tuple[list[Game], dict[str, np.ndarray]]:
    """The season plan and the concatenated player-row arrays up to `through`."""
    games = plan_season(league, season, seed)
    chunks = _Sim(league, season, seed).simulate(games, through)
    cols = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]} if chunks else {}
    return games, cols
