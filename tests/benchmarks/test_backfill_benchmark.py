"""Smoke test of the backfill benchmark: a two-week run yields a report with the documented keys.

No timing assertions here (engine spec §8: targets are measured by the benchmark, not by tests).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "backfill_benchmark.py"
PROCESSORS = ["upcoming_player_game_context", "team_defense_zone_analysis", "player_shot_zone_analysis",
              "player_composite_factors", "player_daily_cache", "ml_feature_store"]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("backfill_benchmark_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_two_week_run_writes_the_documented_report(tmp_path: Path) -> None:
    bench = _load()
    output, keep = tmp_path / "results.json", tmp_path / "warehouse"
    returned = bench.main(["--seasons", "2021-22", "--through", "2021-11-02", "--output", str(output), "--keep", str(keep)])
    report = json.loads(output.read_text())
    assert report == json.loads(json.dumps(returned))
    assert set(bench.REPORT_KEYS) <= set(report)
    assert (keep / "benchmark.duckdb").exists()
    assert report["config"]["seasons"] == ["2021-22"]
    assert list(report["processors"]) == PROCESSORS
    for name, figures in report["processors"].items():
        for key in ("phase", "dates", "wall_seconds", "wall_ms_per_date", "median_ms", "p95_ms", "statements",
                    "statements_per_date", "ratio_last_to_first", "by_season"):
            assert key in figures, (name, key)
        assert figures["dates"] > 0, name  # opening night 2021-10-19; Phase 4 starts after 7 bootstrap days
        assert figures["p95_ms"] >= figures["median_ms"]
        assert figures["ratio_last_to_first"] is None  # one season: no ratio
    assert report["processors"]["upcoming_player_game_context"]["dates"] > report["processors"]["ml_feature_store"]["dates"]
    assert report["phases"]["phase4"]["processors"] == PROCESSORS[1:]
    assert report["generation"]["rows"] > 0 and report["generation"]["peak_rss_mib"] > 0
    assert report["backfill"]["peak_rss_mib"] > 0
    assert set(report["backfill"]["exit_codes"]) == {"phase3 2021-22", "phase4 2021-22"}
    assert set(report["targets"]) == {"phase4_seconds", "ratio_last_to_first", "peak_rss_mib", "statements_per_date"}
    assert len(report["runs"]) == 2 and all(r["run_id"] for r in report["runs"])
    assert report["benchmark"]["comparable_to_spec"] is False


def test_kept_warehouse_is_never_reused(tmp_path: Path) -> None:
    bench = _load()
    (tmp_path / "benchmark.duckdb").write_bytes(b"")
    with pytest.raises(SystemExit, match="exists"):
        bench.main(["--seasons", "2021-22", "--through", "2021-11-02", "--keep", str(tmp_path)])


def test_season_ranges_clip_to_through() -> None:
    import datetime as dt

    bench = _load()
    ranges = bench.season_ranges(["2021-22", "2022-23"], dt.date(2022, 1, 15))
    assert ranges == [("2021-22", dt.date(2021, 10, 1), dt.date(2022, 1, 15))]
    full = bench.season_ranges(["2024-25"], None)
    assert full == [("2024-25", dt.date(2024, 10, 1), dt.date(2025, 6, 30))]


def test_percentile_is_nearest_rank() -> None:
    bench = _load()
    values = list(range(1, 101))
    assert bench.percentile(values, 95) == 95.0
    assert bench.percentile([7.0], 95) == 7.0
    assert bench.percentile([], 95) is None
