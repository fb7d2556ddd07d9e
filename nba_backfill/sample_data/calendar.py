"""Season calendars of 2021-22 … 2024-25: the exact game dates and counts of the spec (pure).

Everything here is data from calendar-and-sample-data.md Part A and Appendices A/B, parsed
once, plus the greedy regular-season matchup builder of B.4: the generator decides matchups,
never dates.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SEASONS: tuple[int, ...] = (2021, 2022, 2023, 2024)

# Appendix A: regular-season games per date ("YYYY-MM  DD:n ...").
_APPENDIX_A = """
# 2021
2021-10  19:2 20:11 21:3 22:10 23:8 24:6 25:9 26:5 27:10 28:6 29:7 30:11 31:5
2021-11  01:9 02:5 03:11 04:5 05:9 06:6 07:8 08:8 09:3 10:13 11:3 12:11 13:7 14:7 15:11 16:3 17:11 18:6 19:9 20:9 21:5 22:10 23:4 24:13 26:12 27:8 28:5 29:9 30:5
2021-12  01:9 02:5 03:9 04:7 05:4 06:10 07:3 08:13 09:3 10:9 11:7 12:6 13:9 14:3 15:11 16:4 17:8 18:7 19:6 20:6 21:5 22:5 23:11 25:5 26:8 27:7 28:8 29:8 30:3 31:10
2022-01  01:6 02:7 03:10 04:5 05:11 06:4 07:9 08:6 09:10 10:7 11:6 12:9 13:5 14:9 15:10 16:4 17:12 18:2 19:13 20:3 21:11 22:3 23:11 24:4 25:9 26:10 27:2 28:11 29:6 30:8 31:8
2022-02  01:7 02:9 03:6 04:9 05:6 06:8 07:5 08:10 09:6 10:7 11:7 12:11 13:2 14:9 15:7 16:11 17:5 24:7 25:9 26:7 27:8 28:7
2022-03  01:6 02:8 03:7 04:9 05:6 06:8 07:8 08:6 09:12 10:2 11:10 12:7 13:8 14:9 15:4 16:12 17:1 18:12 19:4 20:9 21:9 22:4 23:11 24:5 25:7 26:8 27:7 28:9 29:5 30:11 31:5
2022-04  01:10 02:5 03:12 05:12 06:6 07:7 08:9 09:4 10:15
# 2022
2022-10  18:2 19:12 20:2 21:11 22:9 23:7 24:8 25:4 26:10 27:4 28:11 29:7 30:8 31:7
2022-11  01:4 02:11 03:2 04:12 05:8 06:4 07:15 09:13 10:4 11:8 12:8 13:7 14:7 15:5 16:10 17:3 18:11 19:5 20:8 21:8 22:4 23:12 25:14 26:4 27:9 28:10 29:3 30:13
2022-12  01:1 02:11 03:7 04:8 05:8 06:3 07:11 08:3 09:10 10:8 11:7 12:7 13:5 14:10 15:4 16:10 17:7 18:7 19:9 20:5 21:11 22:2 23:14 25:5 26:7 27:10 28:8 29:6 30:9 31:9
2023-01  01:3 02:11 03:3 04:12 05:4 06:11 07:5 08:9 09:6 10:7 11:8 12:6 13:9 14:7 15:8 16:9 17:4 18:9 19:5 20:9 21:7 22:7 23:7 24:7 25:10 26:6 27:5 28:11 29:4 30:8 31:5
2023-02  01:8 02:7 03:8 04:9 05:6 06:8 07:6 08:9 09:4 10:11 11:9 12:2 13:11 14:5 15:10 16:3 23:9 24:8 25:7 26:9 27:4 28:10
2023-03  01:9 02:4 03:10 04:6 05:10 06:6 07:8 08:7 09:6 10:6 11:10 12:6 13:7 14:8 15:7 16:5 17:8 18:8 19:8 20:6 21:6 22:10 23:4 24:10 25:6 26:9 27:8 28:6 29:10 30:2 31:13
2023-04  01:2 02:13 04:13 05:8 06:5 07:11 08:3 09:15
# 2023
2023-10  24:2 25:12 26:2 27:11 28:7 29:6 30:11 31:3
2023-11  01:13 02:4 03:7 04:8 05:5 06:12 08:14 09:2 10:9 11:4 12:11 13:4 14:10 15:8 16:2 17:11 18:6 19:9 20:8 21:5 22:14 24:10 25:6 26:8 27:5 28:8 29:7 30:9
2023-12  01:6 02:12 04:2 05:2 06:11 07:2 08:13 11:13 12:5 13:9 14:7 15:8 16:10 17:5 18:11 19:4 20:10 21:8 22:6 23:13 25:5 26:9 27:6 28:8 29:10 30:6 31:6
2024-01  01:8 02:6 03:12 04:2 05:14 06:4 07:9 08:6 09:5 10:10 11:5 12:10 13:8 14:5 15:11 16:3 17:9 18:5 19:7 20:8 21:6 22:8 23:5 24:8 25:7 26:8 27:10 28:5 29:12 30:5 31:10
2024-02  01:4 02:10 03:6 04:9 05:6 06:7 07:7 08:9 09:6 10:11 11:2 12:10 13:6 14:13 15:3 22:12 23:10 24:3 25:11 26:4 27:11 28:6 29:8
2024-03  01:9 02:5 03:8 04:6 05:9 06:8 07:7 08:8 09:7 10:9 11:6 12:7 13:9 14:6 15:6 16:9 17:7 18:8 19:5 20:8 21:7 22:8 23:8 24:6 25:11 26:4 27:12 28:2 29:12 30:3 31:10
2024-04  01:6 02:9 03:9 04:5 05:12 06:4 07:13 09:14 10:8 11:5 12:15 14:15
# 2024
2024-10  22:2 23:10 24:4 25:10 26:10 27:5 28:11 29:4 30:11 31:4
2024-11  01:9 02:10 03:3 04:15 06:12 07:3 08:13 09:4 10:11 11:5 12:8 13:11 14:1 15:12 16:5 17:10 18:8 19:6 20:8 21:4 22:8 23:7 24:6 25:9 26:5 27:14 29:10 30:5
2024-12  01:10 02:4 03:11 04:6 05:8 06:7 07:7 08:12 09:1 10:2 11:2 12:3 13:8 14:2 15:7 16:6 19:13 20:3 21:12 22:3 23:14 25:5 26:9 27:8 28:9 29:6 30:7 31:6
2025-01  01:8 02:6 03:9 04:9 05:6 06:9 07:7 08:8 09:7 10:7 11:4 12:9 13:6 14:7 15:11 16:5 17:9 18:6 19:7 20:8 21:5 22:8 23:9 24:3 25:14 26:1 27:12 28:4 29:11 30:5 31:7
2025-02  01:9 02:5 03:10 04:7 05:11 06:6 07:7 08:11 09:3 10:10 11:4 12:15 13:5 19:1 20:9 21:9 22:5 23:10 24:8 25:7 26:9 27:5 28:10
2025-03  01:6 02:9 03:7 04:9 05:8 06:6 07:8 08:8 09:8 10:12 11:4 12:9 13:5 14:10 15:8 16:8 17:10 18:4 19:11 20:5 21:10 22:5 23:8 24:8 25:8 26:6 27:8 28:7 29:7 30:8 31:8
2025-04  01:7 02:9 03:6 04:10 05:5 06:11 07:2 08:10 09:10 10:5 11:15 13:15
"""

# Appendix B: "R<round>S<series> <games>: MM-DD ..." per season.
_APPENDIX_B = """
# 2021
R1S0 5: 04-17 04-19 04-22 04-24 04-26
R1S1 4: 04-17 04-20 04-23 04-25
R1S2 5: 04-17 04-20 04-22 04-24 04-27
R1S3 6: 04-16 04-18 04-20 04-23 04-25 04-28
R1S4 6: 04-17 04-19 04-22 04-24 04-26 04-28
R1S5 6: 04-16 04-19 04-21 04-23 04-26 04-29
R1S6 5: 04-16 04-18 04-21 04-24 04-27
R1S7 6: 04-16 04-18 04-21 04-23 04-25 04-28
R2S0 6: 05-02 05-04 05-06 05-08 05-10 05-12
R2S1 7: 05-01 05-03 05-07 05-09 05-11 05-13 05-15
R2S2 7: 05-02 05-04 05-06 05-08 05-10 05-12 05-15
R2S3 6: 05-01 05-03 05-07 05-09 05-11 05-13
R3S0 7: 05-17 05-19 05-21 05-23 05-25 05-27 05-29
R3S1 5: 05-18 05-20 05-22 05-24 05-26
R4S0 6: 06-02 06-05 06-08 06-10 06-13 06-16
# 2022
R1S0 5: 04-16 04-19 04-22 04-24 04-26
R1S1 6: 04-15 04-18 04-21 04-23 04-25 04-27
R1S2 4: 04-15 04-17 04-20 04-22
R1S3 5: 04-15 04-18 04-21 04-23 04-26
R1S4 5: 04-16 04-19 04-21 04-23 04-25
R1S5 6: 04-16 04-19 04-22 04-24 04-26 04-28
R1S6 7: 04-15 04-17 04-20 04-23 04-26 04-28 04-30
R1S7 5: 04-16 04-18 04-20 04-22 04-25
R2S0 6: 04-30 05-02 05-06 05-08 05-10 05-12
R2S1 7: 05-01 05-03 05-05 05-07 05-09 05-11 05-14
R2S2 6: 04-29 05-01 05-05 05-07 05-09 05-11
R2S3 6: 05-02 05-04 05-06 05-08 05-10 05-12
R3S0 7: 05-17 05-19 05-21 05-23 05-25 05-27 05-29
R3S1 4: 05-16 05-18 05-20 05-22
R4S0 5: 06-01 06-04 06-07 06-09 06-12
# 2023
R1S0 5: 04-21 04-24 04-27 04-29 05-01
R1S1 6: 04-20 04-22 04-25 04-28 04-30 05-02
R1S2 6: 04-21 04-23 04-26 04-28 04-30 05-02
R1S3 7: 04-20 04-22 04-25 04-27 04-30 05-03 05-05
R1S4 4: 04-21 04-24 04-27 04-29
R1S5 5: 04-20 04-22 04-25 04-27 04-29
R1S6 4: 04-20 04-23 04-26 04-28
R1S7 6: 04-21 04-23 04-26 04-28 05-01 05-03
R2S0 5: 05-07 05-09 05-11 05-13 05-15
R2S1 7: 05-06 05-08 05-10 05-12 05-14 05-17 05-19
R2S2 6: 05-07 05-09 05-11 05-13 05-15 05-18
R2S3 7: 05-04 05-06 05-10 05-12 05-14 05-16 05-19
R3S0 4: 05-21 05-23 05-25 05-27
R3S1 5: 05-22 05-24 05-26 05-28 05-30
R4S0 5: 06-06 06-09 06-12 06-14 06-17
# 2024
R1S0 4: 04-20 04-23 04-26 04-28
R1S1 5: 04-20 04-23 04-25 04-27 04-29
R1S2 6: 04-19 04-21 04-24 04-27 04-29 05-01
R1S3 5: 04-19 04-22 04-25 04-27 04-29
R1S4 4: 04-20 04-22 04-24 04-26
R1S5 7: 04-20 04-23 04-26 04-28 04-30 05-02 05-04
R1S6 5: 04-19 04-22 04-25 04-27 04-30
R1S7 7: 04-19 04-21 04-24 04-26 04-29 05-01 05-03
R2S0 5: 05-04 05-06 05-09 05-11 05-13
R2S1 6: 05-05 05-07 05-10 05-12 05-14 05-16
R2S2 7: 05-05 05-07 05-09 05-11 05-13 05-15 05-18
R2S3 5: 05-06 05-08 05-10 05-12 05-14
R3S0 6: 05-21 05-23 05-25 05-27 05-29 05-31
R3S1 5: 05-20 05-22 05-24 05-26 05-28
R4S0 7: 06-05 06-08 06-11 06-13 06-16 06-19 06-22
"""

_OPENING = {
    2021: (dt.date(2021, 10, 19), (("BKN", "MIL"), ("GSW", "LAL"))),
    2022: (dt.date(2022, 10, 18), (("PHI", "BOS"), ("LAL", "GSW"))),
    2023: (dt.date(2023, 10, 24), (("LAL", "DEN"), ("PHX", "GSW"))),
    2024: (dt.date(2024, 10, 22), (("NYK", "BOS"), ("MIN", "LAL"))),
}
_PLAY_IN = {
    2021: ("2022-04-12", "2022-04-13", "2022-04-15"),
    2022: ("2023-04-11", "2023-04-12", "2023-04-14"),
    2023: ("2024-04-16", "2024-04-17", "2024-04-19"),
    2024: ("2025-04-15", "2025-04-16", "2025-04-18"),
}
_ALL_STAR = {
    2021: (("2022-02-18", 3), ("2022-02-20", 1)),
    2022: (("2023-02-17", 3), ("2023-02-19", 1)),
    2023: (("2024-02-16", 3), ("2024-02-18", 1)),
    2024: (("2025-02-14", 3), ("2025-02-16", 3)),
}
_TRADE_DEADLINE = {2021: "2022-02-10", 2022: "2023-02-09", 2023: "2024-02-08", 2024: "2025-02-06"}

#: Play-in game numbers: (day index, conference, game): 7v8 and 9v10 then the decider.
PLAY_IN_IDS = {("East", "7v8"): (0, "101"), ("East", "9v10"): (0, "121"), ("West", "7v8"): (1, "111"),
               ("West", "9v10"): (1, "131"), ("East", "final"): (2, "201"), ("West", "final"): (2, "211")}


@dataclass(frozen=True)
class SeasonCalendar:
    """The fixed dates of one season; matchups are decided elsewhere."""

    season: int
    opening_night: dt.date
    opening_games: tuple[tuple[str, str], ...]  # (away, home)
    regular: tuple[tuple[dt.date, int], ...]  # (date, games), date order
    play_in: tuple[dt.date, dt.date, dt.date]
    playoffs: dict[tuple[int, int], tuple[dt.date, ...]]  # (round, series) -> game dates
    all_star: tuple[tuple[dt.date, int], ...]
    trade_deadline: dt.date

    @property
    def regular_end(self) -> dt.date:
        return self.regular[-1][0]

    @property
    def last_day(self) -> dt.date:
        return max(max(d) for d in self.playoffs.values())

    @property
    def schedule_dates(self) -> list[dt.date]:
        """Every date with schedule games (regular season, play-in, playoffs), sorted."""
        days = {d for d, _ in self.regular} | set(self.play_in)
        for dates in self.playoffs.values():
            days.update(dates)
        return sorted(days)


def _parse_a() -> dict[int, list[tuple[dt.date, int]]]:
    out: dict[int, list[tuple[dt.date, int]]] = {}
    season = 0
    for line in _APPENDIX_A.strip().splitlines():
        if line.startswith("#"):
            season = int(line[1:])
            out[season] = []
            continue
        month, *items = line.split()
        year, mon = (int(x) for x in month.split("-"))
        for item in items:
            day, n = item.split(":")
            out[season].append((dt.date(year, mon, int(day)), int(n)))
    return out


def _parse_b() -> dict[int, dict[tuple[int, int], tuple[dt.date, ...]]]:
    out: dict[int, dict[tuple[int, int], tuple[dt.date, ...]]] = {}
    season = 0
    for line in _APPENDIX_B.strip().splitlines():
        if line.startswith("#"):
            season = int(line[1:])
            out[season] = {}
            continue
        head, dates = line.split(":", 1)
        key, n = head.split()
        rnd, ser = int(key[1]), int(key[3])
        days = tuple(dt.date(season + 1, int(x[:2]), int(x[3:])) for x in dates.split())
        assert len(days) == int(n), line
        out[season][(rnd, ser)] = days
    return out


@lru_cache(maxsize=None)
def season_calendar(season: int) -> SeasonCalendar:
    """The calendar of one season (2021…2024)."""
    regular = _parse_a()[season]
    opening, games = _OPENING[season]
    iso = dt.date.fromisoformat
    return SeasonCalendar(
        season=season,
        opening_night=opening,
        opening_games=games,
        regular=tuple(regular),
        play_in=tuple(iso(d) for d in _PLAY_IN[season]),  # type: ignore[arg-type]
        playoffs=_parse_b()[season],
        all_star=tuple((iso(d), n) for d, n in _ALL_STAR[season]),
        trade_deadline=iso(_TRADE_DEADLINE[season]),
    )


def nba_regular_id(season: int, number: int) -> str:
    return f"002{season % 100:02d}{number:05d}"


def nba_playoff_id(season: int, rnd: int, series: int, game: int) -> str:
    return f"004{season % 100:02d}00{rnd}{series}{game}"


def nba_play_in_id(season: int, suffix: str) -> str:
    return f"005{season % 100:02d}00{suffix}"


# A.7: tricode, NBA team id, city+name, nickname, conference.
TEAMS: tuple[tuple[str, int, str, str, str], ...] = (
    ("ATL", 1610612737, "Atlanta Hawks", "Hawks", "East"),
    ("BOS", 1610612738, "Boston Celtics", "Celtics", "East"),
    ("BKN", 1610612751, "Brooklyn Nets", "Nets", "East"),
    ("CHA", 1610612766, "Charlotte Hornets", "Hornets", "East"),
    ("CHI", 1610612741, "Chicago Bulls", "Bulls", "East"),
    ("CLE", 1610612739, "Cleveland Cavaliers", "Cavaliers", "East"),
    ("DET", 1610612765, "Detroit Pistons", "Pistons", "East"),
    ("IND", 1610612754, "Indiana Pacers", "Pacers", "East"),
    ("MIA", 1610612748, "Miami Heat", "Heat", "East"),
    ("MIL", 1610612749, "Milwaukee Bucks", "Bucks", "East"),
    ("NYK", 1610612752, "New York Knicks", "Knicks", "East"),
    ("ORL", 1610612753, "Orlando Magic", "Magic", "East"),
    ("PHI", 1610612755, "Philadelphia 76ers", "76ers", "East"),
    ("TOR", 1610612761, "Toronto Raptors", "Raptors", "East"),
    ("WAS", 1610612764, "Washington Wizards", "Wizards", "East"),
    ("DAL", 1610612742, "Dallas Mavericks", "Mavericks", "West"),
    ("DEN", 1610612743, "Denver Nuggets", "Nuggets", "West"),
    ("GSW", 1610612744, "Golden State Warriors", "Warriors", "West"),
    ("HOU", 1610612745, "Houston Rockets", "Rockets", "West"),
    ("LAC", 1610612746, "LA Clippers", "Clippers", "West"),
    ("LAL", 1610612747, "Los Angeles Lakers", "Lakers", "West"),
    ("MEM", 1610612763, "Memphis Grizzlies", "Grizzlies", "West"),
    ("MIN", 1610612750, "Minnesota Timberwolves", "Timberwolves", "West"),
    ("NOP", 1610612740, "New Orleans Pelicans", "Pelicans", "West"),
    ("OKC", 1610612760, "Oklahoma City Thunder", "Thunder", "West"),
    ("PHX", 1610612756, "Phoenix Suns", "Suns", "West"),
    ("POR", 1610612757, "Portland Trail Blazers", "Trail Blazers", "West"),
    ("SAC", 1610612758, "Sacramento Kings", "Kings", "West"),
    ("SAS", 1610612759, "San Antonio Spurs", "Spurs", "West"),
    ("UTA", 1610612762, "Utah Jazz", "Jazz", "West"),
)
TRICODES: tuple[str, ...] = tuple(t[0] for t in TEAMS)
TEAM_INDEX: dict[str, int] = {code: i for i, code in enumerate(TRICODES)}
#: Variant codes other sources use, per tricode.
VARIANTS = {"BKN": "BRK", "CHA": "CHO", "NYK": "NY", "WAS": "WSH", "GSW": "GS", "NOP": "NO",
            "PHX": "PHO", "SAS": "SA", "UTA": "UTAH"}


def _try_regular_season(cal: SeasonCalendar, rng: np.random.Generator) -> list[tuple[dt.date, int, int]] | None:
    """One greedy pass over the dates (B.4); None when a date cannot be filled."""
    n = len(TRICODES)
    remaining = np.full(n, 82)
    homes = np.zeros(n, dtype=int)
    played = np.zeros(n, dtype=int)
    meet = np.zeros((n, n), dtype=int)
    last = np.full(n, -10)
    before_last = np.full(n, -10)
    games: list[tuple[dt.date, int, int]] = []
    for day, count in cal.regular:
        o = day.toordinal()
        if day == cal.opening_night:
            pairs = [(TEAM_INDEX[a], TEAM_INDEX[h]) for a, h in cal.opening_games]
        else:
            yesterday = last == o - 1
            three = yesterday & (before_last == o - 2)
            score = remaining - 0.25 * yesterday + rng.random(n) * 0.55
            score[(remaining <= 0) | three] = -np.inf
            order = np.argsort(-score, kind="stable")[: 2 * count]
            if not np.isfinite(score[order]).all() or len(order) < 2 * count:
                return None
            pool = list(order)
            pairs = []
            while pool:
                a = pool.pop(0)
                cand = np.array(pool)
                cost = meet[a, cand] + rng.random(len(cand)) * 0.5
                b = int(cand[int(np.argmin(cost))])
                pool.remove(b)
                # home: the team further below half home games so far
                da = homes[a] - played[a] / 2
                db = homes[b] - played[b] / 2
                pairs.append((a, b) if (da > db or (da == db and rng.random() < 0.5)) else (b, a))
        for away, home in pairs:
            games.append((day, away, home))
            for t in (away, home):
                remaining[t] -= 1
                played[t] += 1
                if last[t] != o:
                    before_last[t], last[t] = last[t], o
            homes[home] += 1
            meet[away, home] += 1
            meet[home, away] += 1
    return games if (remaining == 0).all() else None


def _balance_home(games: list[tuple[dt.date, int, int]], fixed: int) -> bool:
    """Swap home/away between over- and under-booked teams until all have 41 (B.4 final pass)."""
    homes = np.zeros(len(TRICODES), dtype=int)
    for _, _, h in games:
        homes[h] += 1
    for _ in range(400):
        over = [t for t in range(len(homes)) if homes[t] > 41]
        if not over:
            return True
        swapped = False
        for i in range(fixed, len(games)):
            day, a, h = games[i]
            if homes[h] > 41 and homes[a] < 41:
                games[i] = (day, h, a)
                homes[h] -= 1
                homes[a] += 1
                swapped = True
        if not swapped:
            # move through a neutral team: over hosts X, X hosts under -> swap both
            for i in range(fixed, len(games)):
                day, a, h = games[i]
                if homes[h] > 41 and homes[a] == 41:
                    games[i] = (day, h, a)
                    homes[h] -= 1
                    homes[a] += 1
                    break
    return False


def regular_season_checks(games: list[tuple[dt.date, int, int]]) -> list[str]:
    """Constraint violations of B.4 (empty when the schedule is acceptable)."""
    n = len(TRICODES)
    problems: list[str] = []
    days: list[set[int]] = [set() for _ in range(n)]
    homes = np.zeros(n, dtype=int)
    meet = np.zeros((n, n), dtype=int)
    for day, a, h in games:
        for t in (a, h):
            if day.toordinal() in days[t]:
                problems.append(f"{TRICODES[t]} twice on {day}")
            days[t].add(day.toordinal())
        homes[h] += 1
        meet[a, h] += 1
        meet[h, a] += 1
    b2b = []
    for t in range(n):
        d = days[t]
        if len(d) != 82 or homes[t] != 41:
            problems.append(f"{TRICODES[t]}: {len(d)} games, {homes[t]} home")
        if any(x - 1 in d and x - 2 in d for x in d):
            problems.append(f"{TRICODES[t]} plays three nights in a row")
        b2b.append(sum(1 for x in d if x - 1 in d))
    if not (11 <= np.mean(b2b) <= 15) or min(b2b) < 6 or max(b2b) > 20:
        problems.append(f"back-to-backs out of range: mean {np.mean(b2b):.1f}, {min(b2b)}..{max(b2b)}")
    off = meet[~np.eye(n, dtype=bool)]
    if off.min() < 2 or off.max() > 5:
        problems.append(f"pair meetings out of range {off.min()}..{off.max()}")
    return problems


def regular_season_games(season: int, seed: int, component: int = 0) -> list[tuple[dt.date, str, str]]:
    """(date, away, home) for all 1,230 regular-season games, restarting on fresh sub-streams."""
    cal = season_calendar(season)
    for attempt in range(200):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(season, component, attempt))))
        games = _try_regular_season(cal, rng)
        if games is None or not _balance_home(games, fixed=len(cal.opening_games)):
            continue
        if not regular_season_checks(games):
            return [(d, TRICODES[a], TRICODES[h]) for d, a, h in games]
    raise RuntimeError(f"no valid regular-season schedule for {season} within 200 attempts")
