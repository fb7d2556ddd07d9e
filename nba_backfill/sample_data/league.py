"""The synthetic league: players, names, ages, rosters, trades, signings and injuries (pure).

The league is always evolved from 2021-22 onward, whatever seasons are materialized, so a
season's rosters never depend on which other seasons were asked for (B.3 subset consistency).
It never looks at game results, only at its own sub-streams.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from nba_backfill.sample_data.calendar import SEASONS, TRICODES, season_calendar

ROSTER = 15
# Sub-stream components (B.3): adding one never shifts the others.
C_SCHEDULE, C_PLAYERS, C_OFFSEASON, C_MOVES, C_INJURIES, C_PLAN, C_BOX, C_ODDS, C_BP, C_SCHED_ROWS = range(10)

_FIRST = ("James Marcus Tyler Jordan Devin Isaiah Malik Andre Jalen Cameron Darius Trevor Keegan Caleb Miles "
          "Quentin Rashad Terrence Xavier Brandon Dwayne Elijah Gabriel Harrison Ivan Jonah Kendall Landon Mason "
          "Nolan Owen Preston Reggie Simon Tobias Victor Wesley Zachary Aaron Bennett Clayton Damon Emmett Felix "
          "Garrett Hollis Jerome Kobe Lamar Nathan Oscar Parker Ronald Sterling Theo Vernon Warren Alec Bryce").split()
_LAST = ("Anderson Bishop Carter Dawson Ellison Fletcher Graves Holloway Ingram Jennings Kessler Lawson Mercer "
         "Norwood Oakley Prescott Quinlan Ramsey Sutton Thornton Underwood Vance Whitaker Yates Abbott Barlow "
         "Calloway Dorsey Easton Fairbanks Gentry Hargrove Irving Jarrett Kingsley Langford Maddox Nichols Osborne "
         "Pruitt Rollins Sheridan Tillman Upshaw Vaughn Winslow Ashby Bellamy Crenshaw Drummond Everett Fowler "
         "Gallagher Hendricks Kimble Lockhart Montague Pennington Radford Stallworth Talbot Whitfield").split()
_SUFFIXES = (" Jr.", " Sr.", " II", " III", " IV")
_ACCENTED = ("Marković", "Kovačević", "Šimunić", "Žagar", "Kalniņš", "Ģērmanis", "Āboliņš", "Dubé", "Schönfeld",
             "Müller", "Petrović", "Babić", "Jurišić", "Lefèvre")
_PUNCT_FIRST = ("D'Andre", "P.J.", "De'Marcus", "T.J.", "Ja'Vonte", "K.J.", "O'Shae")
_PUNCT_LAST = ("Smith-Jones", "Walker-Price", "O'Neal", "Hart-Lyons", "St. Clair")


def stream(seed: int, season: int, component: int, *extra: int) -> np.random.Generator:
    """The numpy PCG64 sub-stream of (seed, season, component, …)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(season, component, *extra))))


def canonical_key(name: str) -> str:
    """Phase 3 canon(): lowercase, strip accents (NFD), keep [a-z0-9] only; suffixes kept."""
    folded = "".join(c for c in unicodedata.normalize("NFD", name.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", folded)


def legacy_key(name: str) -> str:
    """BettingPros' historical key: suffix dropped, accented letters removed, not folded."""
    text = re.sub(r" (jr\.?|sr\.?|ii|iii|iv)$", "", name.lower())
    return re.sub(r"[^a-z0-9]", "", text)


def strip_accents(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))


@dataclass
class Players:
    """Career-constant player attributes, stored column-wise and indexed by player id."""

    name: list[str] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    bp_key: list[str] = field(default_factory=list)
    birth: list[dt.date] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)  # 0 guard, 1 wing, 2 big
    peak: list[float] = field(default_factory=list)
    odds_plain: list[bool] = field(default_factory=list)  # Odds API drops the diacritics
    no_birth: list[bool] = field(default_factory=list)  # absent from / NULL in the player list
    zone: list[np.ndarray] = field(default_factory=list)
    pct: list[np.ndarray] = field(default_factory=list)
    rates: list[np.ndarray] = field(default_factory=list)  # ftr, ftp, reb, ast, stl, blk, tov, pf
    _taken: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.name)

    def add(self, rng: np.random.Generator, birth: dt.date, peak: float, style: str = "") -> int:
        """Create one player with a unique canonical and legacy key; returns the new id."""
        while True:
            first = str(rng.choice(_PUNCT_FIRST if style == "punct" and rng.random() < 0.6 else _FIRST))
            last = str(rng.choice(
                                  _PUNCT_LAST if style == "punct" and first not in _PUNCT_FIRST else _LAST))
            if style.startswith("accent"):
                last = _ACCENTED[int(style[6:]) % len(_ACCENTED)]
            suffix = _SUFFIXES[int(style[6:]) % len(_SUFFIXES)] if style.startswith("suffix") else ""
            name = f"{first} {last}{suffix}"
            key, bp = canonical_key(name), legacy_key(name)
            if key not in self._taken and bp not in self._taken:
                break
        self._taken.update({key, bp})
        kind = int(rng.choice(3, p=[0.4, 0.35, 0.25]))
        zone = np.array([[0.38, 0.17, 0.45], [0.42, 0.16, 0.42], [0.68, 0.13, 0.19]][kind]) * rng.uniform(0.8, 1.2, 3)
        pct = np.array([[0.55, 0.41, 0.355], [0.57, 0.405, 0.35], [0.61, 0.39, 0.32]][kind]) + rng.normal(0, 0.025, 3)
        rates = np.array([
            rng.uniform(0.15, 0.38) * (1.2 if kind == 2 else 1.0), np.clip(rng.normal(0.78 - 0.06 * (kind == 2), 0.06), 0.5, 0.95),
            (0.7, 1.0, 1.7)[kind] * rng.uniform(0.8, 1.2), (1.7, 0.9, 0.6)[kind] * rng.uniform(0.7, 1.3),
            rng.uniform(0.7, 1.3), (0.4, 0.8, 2.2)[kind] * rng.uniform(0.7, 1.3), rng.uniform(0.8, 1.2), rng.uniform(0.8, 1.2),
        ])
        self.name.append(name)
        self.key.append(key)
        self.bp_key.append(bp)
        self.birth.append(birth)
        self.kind.append(kind)
        self.peak.append(peak)
        self.odds_plain.append(bool(rng.random() < 0.5))
        self.no_birth.append(bool(rng.random() < 0.02))
        self.zone.append(zone / zone.sum())
        self.pct.append(pct)
        self.rates.append(rates)
        return len(self.name) - 1


@dataclass(frozen=True)
class Stint:
    """A player on a team from `start` to `end` (inclusive); `hardship` stints always play."""

    pid: int
    team: str
    start: dt.date
    end: dt.date
    hardship: bool = False


@dataclass
class SeasonLeague:
    """One season's rosters over time, talents, injuries and trades."""

    season: int
    stints: list[Stint]
    talent: dict[int, float]
    injuries: dict[int, list[tuple[dt.date, dt.date]]]
    traded: dict[int, tuple[dt.date, str]]  # pid -> (trade date, new team)
    strength: dict[str, float]

    def team_stints(self, team: str) -> list[Stint]:
        return [s for s in self.stints if s.team == team]


def _age(birth: dt.date, on: dt.date) -> float:
    return (on - birth).days / 365.25


def _talent(players: Players, pid: int, season: int, rng: np.random.Generator) -> float:
    age = _age(players.birth[pid], dt.date(season + 1, 2, 1))
    curve = -0.035 * max(0.0, 26 - age) - 0.03 * max(0.0, age - 30)
    return float(np.clip(players.peak[pid] + curve + rng.normal(0, 0.03), 0.02, 1.0))


def _initial(seed: int, players: Players) -> dict[str, list[int]]:
    rng = stream(seed, 2021, C_PLAYERS)
    rosters: dict[str, list[int]] = {}
    # special names go to likely prop players: a top-5 slot of the first teams
    styles = [f"suffix{i}" for i in range(16)] + [f"accent{i}" for i in range(14)] + ["punct"] * 14
    k = 0
    feb1 = dt.date(2022, 2, 1)
    for team in TRICODES:
        roster = []
        for slot in range(ROSTER):
            age = float(np.clip(19.3 + rng.gamma(3.2, 2.3), 19.2, 41.5))
            birth = feb1 - dt.timedelta(days=int(age * 365.25))
            peak = float(np.clip(0.95 - slot * 0.055 + rng.normal(0, 0.07), 0.05, 1.0))
            style = styles[k] if slot in (0, 1, 2, 3) and k < len(styles) else ""
            k += 1 if style else 0
            roster.append(players.add(rng, birth, peak, style))
        rosters[team] = roster
    players.birth[7] = dt.date(1996, 2, 29)  # at least one leap-day birthday
    return rosters


def _offseason(seed: int, season: int, players: Players, rosters: dict[str, list[int]]) -> None:
    """Retirements, ~24% team changes and ~60 rookies before `season` (in place)."""
    rng = stream(seed, season, C_OFFSEASON)
    oct1 = dt.date(season, 10, 1)
    pool: list[int] = []
    for team in TRICODES:
        keep = []
        for pid in rosters[team]:
            age = _age(players.birth[pid], oct1)
            leave = (age >= 39.5) + 0.04 + 0.25 * (age > 33) + 0.3 * (age > 36) + 0.12 * (players.peak[pid] < 0.25)
            r = rng.random()
            if r < leave:
                continue
            (pool if rng.random() < 0.24 else keep).append(pid)
        rosters[team] = keep
    open_slots = sum(ROSTER - len(r) for r in rosters.values())
    for _ in range(open_slots - len(pool)):
        birth = oct1 - dt.timedelta(days=int(rng.uniform(19.0, 23.9) * 365.25))
        pool.append(players.add(rng, birth, float(np.clip(rng.beta(2.2, 3.0), 0.05, 1.0))))
    order = rng.permutation(len(pool))
    it = iter(pool[i] for i in order)
    for team in TRICODES:
        while len(rosters[team]) < ROSTER:
            rosters[team].append(next(it))


def _in_season(seed: int, season: int, players: Players, rosters: dict[str, list[int]],
               talent: dict[int, float]) -> tuple[list[Stint], dict[int, tuple[dt.date, str]]]:
    """Trades, waivers/signings and (2021-22) hardship signings; updates `rosters` to season end."""
    rng = stream(seed, season, C_MOVES)
    cal = season_calendar(season)
    start, end = dt.date(season, 10, 1), cal.last_day
    since = {pid: start for team in TRICODES for pid in rosters[team]}
    stints: list[Stint] = []
    events: list[tuple[dt.date, int, str, int, str]] = []  # (date, kind, ...)
    traded: dict[int, tuple[dt.date, str]] = {}
    dec15 = dt.date(season, 12, 15)
    span = (cal.trade_deadline - dec15).days
    for _ in range(int(rng.integers(12, 21))):
        day = dec15 + dt.timedelta(days=int(rng.integers(0, span + 1)))
        a, b = (TRICODES[i] for i in rng.choice(len(TRICODES), 2, replace=False))
        events.append((day, 0, a, 1 + int(rng.random() < 0.15), b))
    n_moves = 50 if season == 2021 else 70
    for _ in range(n_moves):
        day = dt.date(season, 11, 15) + dt.timedelta(days=int(rng.integers(0, 135)))
        events.append((day, 1, TRICODES[int(rng.integers(len(TRICODES)))], 0, ""))
    events.sort(key=lambda e: (e[0], e[1], e[2], e[4]))
    for day, kind, team, k, other in events:
        by_talent = sorted(rosters[team], key=lambda p: -talent[p])
        if kind == 0:
            mine = [int(p) for p in rng.choice(by_talent[2:12], k, replace=False)]
            theirs_pool = sorted(rosters[other], key=lambda p: -talent[p])[2:12]
            theirs = [int(p) for p in rng.choice(theirs_pool, k, replace=False)]
            for src, dst, moving in ((team, other, mine), (other, team, theirs)):
                for pid in moving:
                    stints.append(Stint(pid, src, since[pid], day - dt.timedelta(days=1)))
                    since[pid] = day + dt.timedelta(days=1)
                    rosters[src].remove(pid)
                    rosters[dst].append(pid)
                    traded[pid] = (day, dst)
        else:
            out = int(rng.choice(by_talent[11:]))
            if out in traded:
                continue
            stints.append(Stint(out, team, since.pop(out), day))
            rosters[team].remove(out)
            age = float(rng.uniform(21, 31))
            new = players.add(rng, day - dt.timedelta(days=int(age * 365.25)), float(rng.uniform(0.05, 0.3)))
            talent[new] = _talent(players, new, season, rng)
            rosters[team].append(new)
            since[new] = day + dt.timedelta(days=1)
    if season == 2021:  # hardship signings, 1-10 appearances each
        for i in range(60):
            team = TRICODES[i % len(TRICODES)]
            day = dt.date(2021, 12, 15) + dt.timedelta(days=int(rng.integers(0, 31)))
            age = float(rng.uniform(22, 33))
            pid = players.add(rng, day - dt.timedelta(days=int(age * 365.25)), float(rng.uniform(0.03, 0.15)))
            talent[pid] = _talent(players, pid, season, rng)
            length = int(rng.integers(1, 11))
            stints.append(Stint(pid, team, day, day + dt.timedelta(days=int(length * 2.1)), hardship=True))
    for team in TRICODES:
        for pid in rosters[team]:
            stints.append(Stint(pid, team, since[pid], end))
    stints.sort(key=lambda s: (s.start, s.team, s.pid))
    return stints, traded


def _injuries(seed: int, season: int, pids: list[int]) -> dict[int, list[tuple[dt.date, dt.date]]]:
    """Poisson(1.0) spells per player-season; lengths in games converted to days."""
    rng = stream(seed, season, C_INJURIES)
    cal = season_calendar(season)
    first, last = cal.opening_night, cal.last_day
    span = (last - first).days
    out: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for pid in pids:
        spells = []
        for _ in range(int(rng.poisson(1.15))):
            u = rng.random()
            games = (int(rng.integers(1, 4)) if u < 0.6 else int(rng.integers(4, 11)) if u < 0.85
                     else int(rng.integers(11, 31)) if u < 0.97 else int(rng.integers(31, 70)))
            begin = first + dt.timedelta(days=int(rng.integers(0, span)))
            stop = begin + dt.timedelta(days=int(games * 2.15))
            spells.append((begin, last if games >= 31 and rng.random() < 0.4 else stop))
        if spells:
            out[pid] = spells
    return out


@dataclass
class League:
    players: Players
    seasons: dict[int, SeasonLeague]


@lru_cache(maxsize=4)
def build_league(seed: int) -> League:
    """Evolve the league from 2021-22 through 2024-25 (cheap: no games are simulated here)."""
    players = Players()
    rosters = _initial(seed, players)
    seasons: dict[int, SeasonLeague] = {}
    for season in SEASONS:
        if season > SEASONS[0]:
            _offseason(seed, season, players, rosters)
        rng = stream(seed, season, C_PLAYERS, 1)
        talent = {pid: _talent(players, pid, season, rng) for team in TRICODES for pid in rosters[team]}
        strength = {team: float(np.mean(sorted((talent[p] for p in rosters[team]), reverse=True)[:8]))
                    for team in TRICODES}
        stints, traded = _in_season(seed, season, players, rosters, talent)
        pids = sorted({s.pid for s in stints})
        seasons[season] = SeasonLeague(season, stints, talent, _injuries(seed, season, pids), traded, strength)
    return League(players, seasons)
