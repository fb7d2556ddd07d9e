from __future__ import annotations

import datetime as dt

from nba_backfill.engine.ledger import fingerprint
from nba_backfill.engine.summary import RunSummary, UnitOutcome

D = dt.date


def test_fingerprint_is_order_independent_16_hex() -> None:
    a = fingerprint([("b", "r2", 5), ("a", "r1", 3)])
    assert a == fingerprint([("a", "r1", 3), ("b", "r2", 5)])
    assert len(a) == 16 and int(a, 16) >= 0
    assert a != fingerprint([("a", "r1", 4), ("b", "r2", 5)])


def test_exit_codes() -> None:
    s = RunSummary("r", ["p"], [UnitOutcome("p", D(2022, 1, 1), "COMPLETE"), UnitOutcome("p", D(2022, 1, 2), "SKIPPED_BOOTSTRAP")])
    assert s.exit_code() == 0
    s.outcomes.append(UnitOutcome("p", D(2022, 1, 3), "BLOCKED"))
    assert s.exit_code() == 1
    s.interrupted = True
    assert s.exit_code() == 130


def test_no_source_data_over_five_percent_fails() -> None:
    ok = [UnitOutcome("p", D(2022, 1, 1) + dt.timedelta(days=i), "COMPLETE") for i in range(19)]
    s = RunSummary("r", ["p"], ok + [UnitOutcome("p", D(2022, 3, 1), "NO_SOURCE_DATA")])
    assert s.exit_code() == 0  # 1 of 20 = 5 %
    s.outcomes.append(UnitOutcome("p", D(2022, 3, 2), "NO_SOURCE_DATA"))
    assert s.exit_code() == 1


def test_retry_commands_name_cli_and_wrapper_forms() -> None:
    s = RunSummary("r", ["p"], [UnitOutcome("p", D(2022, 1, 3), "FAILED"), UnitOutcome("p", D(2022, 1, 1), "BLOCKED")])
    s.wrappers["p"] = "backfill_jobs/precompute/p/p_precompute_backfill.py"
    s.phase_commands["p"] = "nba-backfill phase4 run"
    assert s.retry_commands() == [
        "nba-backfill phase4 run --processor p --dates 2022-01-01,2022-01-03",
        "python backfill_jobs/precompute/p/p_precompute_backfill.py --dates 2022-01-01,2022-01-03",
    ]
