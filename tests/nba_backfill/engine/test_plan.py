from __future__ import annotations

import datetime as dt

from nba_backfill.engine.ledger import LatestUnit
from nba_backfill.engine.plan import Calendar, gaps_before, phase3_gaps, plan_processor, season_blocks
from nba_backfill.processor import ProcessorSpec

D = dt.date


def _spec(bootstrap: bool = True) -> ProcessorSpec:
    return ProcessorSpec("p", 4, "nba_precompute.player_daily_cache", "cache_date", (), compute=lambda *a: None,
                         bootstrap_skip=bootstrap)


CAL = Calendar(game_dates=(D(2021, 10, 19), D(2021, 10, 25), D(2021, 10, 26), D(2021, 10, 27)), openings={2021: D(2021, 10, 19)})


def _latest(state: str) -> LatestUnit:
    return LatestUnit(state=state, run_id="r1", rows_written=3, upstream_fingerprint=None, attempts=1)


def test_bootstrap_is_days_0_to_6_of_the_season() -> None:
    assert CAL.bootstrap_day(D(2021, 10, 19)) == 0
    assert CAL.bootstrap_day(D(2021, 10, 25)) == 6
    assert CAL.bootstrap_day(D(2021, 10, 26)) is None
    assert CAL.bootstrap_day(D(2021, 10, 18)) is None


def test_plan_skips_bootstrap_and_done_units_but_reruns_failed_and_stale() -> None:
    latest = {("p", D(2021, 10, 26)): _latest("COMPLETE"), ("p", D(2021, 10, 27)): _latest("STALE")}
    units = plan_processor(_spec(), CAL.game_dates, CAL, latest)
    assert [u.action for u in units] == ["bootstrap", "bootstrap", "done", "run"]


def test_phase3_processor_has_no_bootstrap_skip() -> None:
    units = plan_processor(_spec(bootstrap=False), CAL.game_dates[:1], CAL, {})
    assert units[0].action == "run"


def test_force_reruns_done_units_and_retry_failed_selects_only_bad_states() -> None:
    latest = {("p", D(2021, 10, 26)): _latest("COMPLETE"), ("p", D(2021, 10, 27)): _latest("FAILED")}
    assert [u.action for u in plan_processor(_spec(), CAL.game_dates[2:], CAL, latest, force=True)] == ["run", "run"]
    assert [u.action for u in plan_processor(_spec(), CAL.game_dates[2:], CAL, latest, retry_failed=True)] == ["not_selected", "run"]


def test_no_source_data_is_not_rerun_without_retry() -> None:
    latest = {("p", D(2021, 10, 26)): _latest("NO_SOURCE_DATA")}
    assert plan_processor(_spec(), [D(2021, 10, 26)], CAL, latest)[0].action == "done"
    assert plan_processor(_spec(), [D(2021, 10, 26)], CAL, latest, retry_failed=True)[0].action == "run"


def test_season_blocks_split_on_season_boundaries() -> None:
    days = [D(2022, 6, 1), D(2021, 11, 1), D(2022, 10, 20)]
    assert season_blocks(days) == [[D(2021, 11, 1), D(2022, 6, 1)], [D(2022, 10, 20)]]


def test_phase3_gaps_and_lookback() -> None:
    gaps = phase3_gaps([D(2021, 11, 1), D(2021, 11, 2)], {"pgs": {D(2021, 11, 1)}, "team": {D(2021, 11, 1), D(2021, 11, 2)}})
    assert gaps == {D(2021, 11, 2): ["pgs"]}
    assert gaps_before(D(2021, 11, 3), gaps) == [D(2021, 11, 2)]
    assert gaps_before(D(2021, 11, 2), gaps) == []
    assert gaps_before(D(2022, 11, 3), gaps) == []


def test_season_blocks_bound_the_span_of_dates_read_at_once() -> None:
    days = [D(2021, 11, 1), D(2021, 11, 20), D(2021, 12, 1), D(2021, 12, 2), D(2022, 1, 15)]
    assert season_blocks(days, 31) == [[D(2021, 11, 1), D(2021, 11, 20), D(2021, 12, 1)], [D(2021, 12, 2)], [D(2022, 1, 15)]]
