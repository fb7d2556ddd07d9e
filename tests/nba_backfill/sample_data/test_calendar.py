"""The season calendars reproduce Part A / Appendices A-B, and generated matchups meet B.4."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from nba_backfill.sample_data.calendar import (SEASONS, TRICODES, regular_season_checks, regular_season_games,
                                               season_calendar)

# (RS dates, playoff games, playoff dates, schedule dates, schedule games) from the A.2 table
A2 = {2021: (165, 87, 45, 213, 1323), 2022: (164, 84, 45, 212, 1320), 2023: (160, 82, 44, 207, 1318),
      2024: (163, 84, 47, 213, 1320)}


@pytest.mark.parametrize("season", SEASONS)
def test_season_totals_match_a2(season: int) -> None:
    cal = season_calendar(season)
    rs_dates, po_games, po_dates, sched_dates, sched_games = A2[season]
    assert sum(n for _, n in cal.regular) == 1230
    assert len(cal.regular) == rs_dates
    assert sum(len(d) for d in cal.playoffs.values()) == po_games
    assert len({d for dates in cal.playoffs.values() for d in dates}) == po_dates
    assert len(cal.schedule_dates) == sched_dates
    assert 1230 + 6 + po_games == sched_games
    assert not {d for d, _ in cal.all_star} & set(cal.schedule_dates)
    assert cal.regular[0] == (cal.opening_night, 2)


def test_calendar_spot_checks() -> None:
    cal = season_calendar(2021)
    counts = dict(cal.regular)
    assert counts[dt.date(2022, 4, 10)] == 15 and counts[dt.date(2022, 3, 17)] == 1
    assert dt.date(2021, 11, 25) not in counts and dt.date(2021, 12, 24) not in counts
    assert cal.playoffs[(4, 0)][-1] == dt.date(2022, 6, 16)
    assert cal.play_in == (dt.date(2022, 4, 12), dt.date(2022, 4, 13), dt.date(2022, 4, 15))
    assert dt.date(2023, 12, 9) not in dict(season_calendar(2023).regular)  # Cup final
    dist = Counter(n for s in SEASONS for _, n in season_calendar(s).regular)
    assert dist[15] == 9 and dist[1] == 6


@pytest.mark.parametrize("season", SEASONS)
def test_regular_season_matchups(season: int) -> None:
    games = regular_season_games(season, 20211019)
    cal = season_calendar(season)
    assert len(games) == 1230
    assert Counter(d for d, _, _ in games) == Counter(dict(cal.regular))
    assert [(a, h) for d, a, h in games if d == cal.opening_night] == list(cal.opening_games)
    per_team = {t: sorted(d for d, a, h in games if t in (a, h)) for t in TRICODES}
    for team, days in per_team.items():
        assert len(days) == 82 and len(set(days)) == 82
        assert sum(h == team for _, _, h in games) == 41
        ords = {d.toordinal() for d in days}
        assert not any(o - 1 in ords and o - 2 in ords for o in ords), team
    idx = {t: i for i, t in enumerate(TRICODES)}
    assert regular_season_checks([(d, idx[a], idx[h]) for d, a, h in games]) == []


def test_matchups_depend_on_seed() -> None:
    assert regular_season_games(2022, 1) != regular_season_games(2022, 2)
