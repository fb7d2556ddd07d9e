"""A repeatable backfill benchmark (engine spec §8): sample data, Phase 3, then `phase4 run --all` on DuckDB.

Usage:
    python benchmarks/backfill_benchmark.py --seasons 2021-22,2022-23,2023-24,2024-25 --output results.json
    python benchmarks/backfill_benchmark.py --seasons 2021-22 --through 2021-11-05 --keep /tmp/bench

Why two child processes: peak RSS of sample generation and of the Phase 3 + Phase 4 run must be
measured separately, and `ru_maxrss` only ever grows within a process. The parent imports nothing
heavy (stdlib only), so its own small footprint is the floor of the children's `ru_maxrss` (Linux
carries it over exec); `/proc/self/status` VmHWM, reported alongside, is the child's own peak.

The runs go through the real CLI (`nba_backfill.cli.app`, in-process via typer's CliRunner, `--json`),
one invocation per (phase, season): all Phase 3 seasons first, then Phase 4 per season.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import statistics
import time
from importlib import metadata
from pathlib import Path
from typing import Any

DEFAULT_SEASONS = "2021-22,2022-23,2023-24,2024-25"
SEED = 20211019
PHASE3_PROCESSOR = "upcoming_player_game_context"
DB_NAME = "benchmark.duckdb"
REPO = Path(__file__).resolve().parents[1]

__all__ = ["REPORT_KEYS", "main", "season_ranges"]


# ---- dates (stdlib only: the parent must stay small) ---------------------------------------
def season_ranges(labels: list[str], through: dt.date | None) -> list[tuple[str, dt.date, dt.date]]:
    """(label, Oct 1, Jun 30) per season, clipped to `through`; seasons starting after it are dropped."""
    out = []
    for label in labels:
        year = int(label.split("-")[0])
        if f"{year}-{(year + 1) % 100:02d}" != label:
            raise SystemExit(f"invalid season {label!r}: expected a label like 2021-22")
        start, end = dt.date(year, 10, 1), dt.date(year + 1, 6, 30)
        if through is not None:
            if through < start:
                continue
            end = min(end, through)
        out.append((label, start, end))
    if not out:
        raise SystemExit("no season range left (is --through before the first season?)")
    return out


# ---- measurements inside a child --------------------------------------------------------------
def _status_mib(key: str) -> float | None:
    """A /proc/self/status memory line (VmHWM, VmRSS) in MiB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process's VmHWM (Linux clear_refs "5") so one CLI invocation's peak can be read alone."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_memory() -> dict[str, float | None]:
    """This process's peak RSS in MiB: ru_maxrss (never below the parent's at exec) and VmHWM."""
    raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss = raw / 2**20 if sys.platform == "darwin" else raw / 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_mib": round(maxrss, 1), "vm_hwm_mib": _status_mib("VmHWM"),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3)}


def child_generate(db: Path, labels: list[str], through: dt.date | None) -> dict[str, Any]:
    """Build the sample warehouse (the call `sample load` makes), timed on its own."""
    from nba_backfill.sample_data import generate_sample_data
    from nba_backfill.warehouse import connect

    warehouse = connect(f"duckdb:///{db}")
    t0 = time.perf_counter()
    try:
        rows = generate_sample_data(warehouse, [int(s.split("-")[0]) for s in labels], seed=SEED, through=through)
    finally:
        warehouse.close()
    return {"seconds": round(time.perf_counter() - t0, 3), "rows": rows, **peak_memory()}


def invoke_cli(args: list[str]) -> dict[str, Any]:
    """One `nba-backfill --json ...` invocation in-process; its JSON summary, wall time and statements.

    `nba_backfill.warehouse.connect` is wrapped only to read the statement counter of the warehouse
    the CLI opens (so per-invocation overhead — planning, ledger — is counted too); nothing else changes.
    """
    from typer.testing import CliRunner

    import nba_backfill.warehouse as warehouse_module
    from nba_backfill.cli import app

    opened: list[Any] = []
    real_connect = warehouse_module.connect

    def tracking_connect(url: str) -> Any:
        warehouse = real_connect(url)
        opened.append(warehouse)
        return warehouse

    saved_argv, sys.argv = sys.argv, ["nba-backfill", *args]  # the runs table records the command line
    warehouse_module.connect = tracking_connect
    reset = _reset_peak()
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        warehouse_module.connect = real_connect
        sys.argv = saved_argv
    if result.exit_code not in (0, 1):
        raise RuntimeError(f"`nba-backfill {' '.join(args)}` exited {result.exit_code}: {result.output[-2000:]}")
    return {"exit_code": result.exit_code, "wall_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
            "peak_rss_mib": _status_mib("VmHWM") if reset else None, "rss_after_mib": _status_mib("VmRSS"), "summary": json.loads(result.stdout),
            "statements_incl_overhead": sum(w.statements for w in opened)}


def child_backfill(db: Path, labels: list[str], through: dt.date | None) -> dict[str, Any]:
    """Phase 3 for every season, then `phase4 run --all` per season; then the ledger rows of those runs."""
    from nba_backfill.registry import default_registry
    from nba_backfill.warehouse import connect

    url = f"duckdb:///{db}"
    before = peak_memory()["peak_rss_mib"] or 0.0
    runs = []
    for phase in (3, 4):
        for label, start, end in season_ranges(labels, through):
            what = ["phase3", "run", "--processor", PHASE3_PROCESSOR] if phase == 3 else ["phase4", "run", "--all"]
            args = ["--warehouse", url, "--json", *what, "--start-date", start.isoformat(), "--end-date", end.isoformat()]
            out = invoke_cli(args)
            runs.append({"phase": phase, "season": label, "start": start.isoformat(), "end": end.isoformat(),
                         "run_id": out["summary"]["run_id"], "exit_code": out["exit_code"],
                         "wall_seconds": out["wall_seconds"], "cpu_seconds": out["cpu_seconds"],
                         "peak_rss_mib": out["peak_rss_mib"], "rss_after_mib": out["rss_after_mib"],
                         "statements_incl_overhead": out["statements_incl_overhead"],
                         "counts": out["summary"]["counts"], "statements": out["summary"]["statements"],
                         "seconds": out["summary"]["seconds"], "failures": len(out["summary"]["failures"])})
            print(f"[benchmark] phase {phase} {label}: {out['wall_seconds']:.1f}s exit {out['exit_code']}",
                  file=sys.stderr, flush=True)
    ids = ", ".join(f"'{r['run_id']}'" for r in runs)  # run ids are generated: timestamp and hex only
    warehouse = connect(url)
    try:
        frame = warehouse.query(f"SELECT run_id, processor, unit_date, state, reason, duration_ms "
                                f"FROM nba_backfill.units WHERE run_id IN ({ids})")
    finally:
        warehouse.close()
    units = [{"run_id": str(r.run_id), "processor": str(r.processor), "date": str(r.unit_date)[:10],
              "state": str(r.state), "reason": None if r.reason is None or r.reason != r.reason else str(r.reason),
              "duration_ms": int(r.duration_ms or 0)} for r in frame.itertuples(index=False)]
    registry = default_registry()
    order = [{"name": n, "phase": registry.get(n).phase} for n in registry.names()]
    memory = peak_memory()  # ru_maxrss and VmHWM were reset with each run: the peak is the largest run's
    memory["peak_rss_mib"] = max([memory["peak_rss_mib"], before, *(r["peak_rss_mib"] or 0.0 for r in runs)])
    memory["vm_hwm_mib"] = max([memory["vm_hwm_mib"] or 0.0, *(r["peak_rss_mib"] or 0.0 for r in runs)]) or None
    return {"runs": runs, "units": units, "processors": order, **memory}


# ---- the report (pure: from the children's raw results to figures) --------------------------------
#: States whose ledger duration_ms is compute time; gate decisions and skips record 0 ms.
COMPUTED_STATES = frozenset({"COMPLETE", "DEGRADED", "EXPECTED_EMPTY", "FAILED", "NO_SOURCE_DATA"})
#: Summary count keys that are not units of this run (done earlier, or an off day).
NOT_UNITS = frozenset({"DONE_EARLIER", "NO_GAMES"})
#: Engine spec §8 targets on a 2-core machine.
TARGETS = {"phase4_seconds": 120.0, "phase4_seconds_goal": 60.0, "ratio": 1.5, "peak_rss_mib": 1024.0,
           "statements_per_date": 3.0}
#: Top-level keys of the JSON report (the smoke test checks them).
REPORT_KEYS = ("benchmark", "git", "machine", "config", "generation", "backfill", "phases", "processors",
               "seasons", "ratio_last_to_first", "targets", "runs")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return float(ordered[int(rank) - 1])


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _div(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return None if a is None or not b else round(a / b, digits)


def _was_computed(unit: dict[str, Any]) -> bool:
    """True when the unit reached compute(): a gate's NO_SOURCE_DATA ("upstream ...: ...") did not."""
    return unit["state"] in COMPUTED_STATES and not (unit["reason"] or "").startswith("upstream ")


def _processor_figures(name: str, phase: int, runs: list[dict], units: list[dict], seasons: list[str]) -> dict[str, Any]:
    mine = [u for u in units if u["processor"] == name]
    by_season: dict[str, Any] = {}
    for label in seasons:
        run = next((r for r in runs if r["phase"] == phase and r["season"] == label), None)
        ms = [u["duration_ms"] for u in mine if u["season"] == label]
        wall = run["seconds"].get(name) if run else None
        stmts = run["statements"].get(name) if run else None
        by_season[label] = {"dates": len(ms), "median_ms": _median(ms), "p95_ms": percentile(ms, 95),
                            "wall_seconds": wall, "wall_ms_per_date": _div(None if wall is None else wall * 1000, len(ms), 1),
                            "statements": stmts, "statements_per_date": _div(stmts, len(ms))}
    wall = sum(r["seconds"].get(name, 0.0) for r in runs if r["phase"] == phase)
    stmts = sum(r["statements"].get(name, 0) for r in runs if r["phase"] == phase)
    ms = [u["duration_ms"] for u in mine]
    first, last = by_season[seasons[0]]["median_ms"], by_season[seasons[-1]]["median_ms"]
    return {"phase": phase, "units": sum(n for r in runs if r["phase"] == phase
                                         for s, n in r["counts"].get(name, {}).items() if s not in NOT_UNITS),
            "dates": len(ms), "wall_seconds": round(wall, 3), "wall_ms_per_date": _div(wall * 1000, len(ms), 1),
            "median_ms": _median(ms), "p95_ms": percentile(ms, 95), "statements": stmts,
            "statements_per_date": _div(stmts, len(ms)),
            "ratio_last_to_first": _div(last, first, 2) if len(seasons) > 1 else None, "by_season": by_season}


def _season_figures(phase: int, names: list[str], runs: list[dict], units: list[dict], label: str) -> dict[str, Any]:
    """Per-date cost of one phase in one season: the sum over its processors of duration_ms, per date."""
    per_date: dict[str, float] = {}
    for u in units:
        if u["season"] == label and u["processor"] in names:
            per_date[u["date"]] = per_date.get(u["date"], 0.0) + u["duration_ms"]
    run = next((r for r in runs if r["phase"] == phase and r["season"] == label), None)
    wall = sum(run["seconds"].values()) if run else None
    return {"dates": len(per_date), "median_ms_per_date": _median(list(per_date.values())),
            "p95_ms_per_date": percentile(list(per_date.values()), 95), "wall_seconds": wall,
            "invocation_seconds": run["wall_seconds"] if run else None,
            "invocation_cpu_seconds": run["cpu_seconds"] if run else None,
            "cpu_ms_per_date": _div(None if run is None else run["cpu_seconds"] * 1000, len(per_date), 1),
            "peak_rss_mib": run["peak_rss_mib"] if run else None, "rss_after_mib": run["rss_after_mib"] if run else None,
            "wall_ms_per_date": _div(None if wall is None else wall * 1000, len(per_date), 1)}


def build_report(generation: dict, backfill: dict, config: dict, machine: dict, git: dict) -> dict[str, Any]:
    """All figures of engine spec §8 from the raw child results; no I/O."""
    runs, seasons = backfill["runs"], config["seasons"]
    where = {r["run_id"]: r for r in runs}
    units = [{**u, "season": where[u["run_id"]]["season"]} for u in backfill["units"] if _was_computed(u)]
    processors = {p["name"]: _processor_figures(p["name"], p["phase"], runs, units, seasons) for p in backfill["processors"]}
    phases: dict[str, Any] = {}
    per_season: dict[str, Any] = {label: {} for label in seasons}
    for phase in (3, 4):
        names = [n for n, f in processors.items() if f["phase"] == phase]
        dates = sum(processors[n]["dates"] for n in names)
        stmts = sum(processors[n]["statements"] for n in names)
        overhead = sum(r["statements_incl_overhead"] for r in runs if r["phase"] == phase)
        phases[f"phase{phase}"] = {
            "processors": names, "wall_seconds": round(sum(processors[n]["wall_seconds"] for n in names), 3),
            "invocation_seconds": round(sum(r["wall_seconds"] for r in runs if r["phase"] == phase), 3),
            "invocation_cpu_seconds": round(sum(r["cpu_seconds"] for r in runs if r["phase"] == phase), 3),
            "unit_dates": dates, "statements": stmts, "statements_per_date": _div(stmts, dates),
            "statements_incl_overhead": overhead, "statements_incl_overhead_per_date": _div(overhead, dates)}
        for label in seasons:
            per_season[label][f"phase{phase}"] = _season_figures(phase, names, runs, units, label)
    all_dates = phases["phase3"]["unit_dates"] + phases["phase4"]["unit_dates"]
    all_stmts = phases["phase3"]["statements"] + phases["phase4"]["statements"]

    def ratio(phase: str, key: str) -> float | None:
        if len(seasons) < 2:
            return None
        return _div(per_season[seasons[-1]][phase][key], per_season[seasons[0]][phase][key], 2)

    ratios = {"first": seasons[0], "last": seasons[-1], "phase4_median_ms_per_date": ratio("phase4", "median_ms_per_date"),
              "phase4_wall_ms_per_date": ratio("phase4", "wall_ms_per_date"),
              "phase4_cpu_ms_per_date": ratio("phase4", "cpu_ms_per_date"),
              "phase3_cpu_ms_per_date": ratio("phase3", "cpu_ms_per_date"),
              "phase3_median_ms_per_date": ratio("phase3", "median_ms_per_date"),
              "phase3_wall_ms_per_date": ratio("phase3", "wall_ms_per_date"),
              "per_processor": {n: f["ratio_last_to_first"] for n, f in processors.items()}}
    p4_wall, rss = phases["phase4"]["wall_seconds"], backfill["peak_rss_mib"]
    headline_ratio = ratios["phase4_median_ms_per_date"]
    spd = _div(all_stmts, all_dates)
    targets = {
        "phase4_seconds": {"value": p4_wall, "target": TARGETS["phase4_seconds"], "goal": TARGETS["phase4_seconds_goal"],
                           "met": p4_wall < TARGETS["phase4_seconds"], "goal_met": p4_wall < TARGETS["phase4_seconds_goal"]},
        "ratio_last_to_first": {"value": headline_ratio, "target": TARGETS["ratio"],
                                "met": None if headline_ratio is None else headline_ratio < TARGETS["ratio"]},
        "peak_rss_mib": {"value": rss, "target": TARGETS["peak_rss_mib"], "met": rss < TARGETS["peak_rss_mib"]},
        "statements_per_date": {"value": spd, "target": TARGETS["statements_per_date"],
                                "met": None if spd is None else spd <= TARGETS["statements_per_date"]},
    }
    return {
        "benchmark": {"name": "backfill", "version": 1, "comparable_to_spec": len(seasons) == 4 and config["through"] is None},
        "git": git, "machine": machine, "config": config,
        "generation": {"seconds": generation["seconds"], "process_seconds": generation["process_seconds"],
                       "process_cpu_seconds": generation["cpu_seconds"],
                       "peak_rss_mib": generation["peak_rss_mib"], "vm_hwm_mib": generation["vm_hwm_mib"],
                       "rows": sum(generation["rows"].values()), "rows_by_table": generation["rows"]},
        "backfill": {"seconds": round(sum(r["wall_seconds"] for r in runs), 3), "process_seconds": backfill["process_seconds"],
                     "cpu_seconds": round(sum(r["cpu_seconds"] for r in runs), 3),
                     "peak_rss_mib": rss, "vm_hwm_mib": backfill["vm_hwm_mib"],
                     "exit_codes": {f"phase{r['phase']} {r['season']}": r["exit_code"] for r in runs},
                     "failures": sum(r["failures"] for r in runs), "statements_per_date": spd},
        "phases": phases, "processors": processors, "seasons": per_season, "ratio_last_to_first": ratios,
        "targets": targets, "runs": runs,
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _mark(met: bool | None) -> str:
    return "–" if met is None else ("✅" if met else "❌")


def render_markdown(report: dict[str, Any]) -> str:
    """The figures as Markdown tables (what README.md quotes)."""
    g, cfg, seasons = report["git"], report["config"], report["config"]["seasons"]
    lines = [f"## Backfill benchmark: {', '.join(seasons)}" + (f" through {cfg['through']}" if cfg["through"] else ""),
             "", f"commit `{(g['commit'] or '?')[:12]}`{' (tree dirty)' if g['dirty'] else ''}"
             f"{' (tree changed during the run)' if g.get('changed_during_run') else ''}; "
             f"{report['machine']['nproc']} cores, {report['machine']['mem_total_gib']} GiB, Python {report['machine']['python']}",
             "", "| processor | phase | dates | wall s | wall ms/date | median ms | p95 ms | statements/date | "
             f"median ms {seasons[0]} → {seasons[-1]} | ratio |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, f in report["processors"].items():
        first, last = f["by_season"][seasons[0]]["median_ms"], f["by_season"][seasons[-1]]["median_ms"]
        lines.append(f"| {name} | {f['phase']} | {f['dates']} | {_fmt(f['wall_seconds'])} | {_fmt(f['wall_ms_per_date'])} | "
                     f"{_fmt(f['median_ms'])} | {_fmt(f['p95_ms'])} | {_fmt(f['statements_per_date'], 2)} | "
                     f"{_fmt(first)} → {_fmt(last)} | {_fmt(f['ratio_last_to_first'], 2)} |")
    lines += ["", "| season | P3 dates | P3 wall s | P3 CPU s | P3 median ms/date | P3 peak RSS MiB | P4 dates | P4 wall s | "
              "P4 CPU s | P4 wall ms/date | P4 median ms/date (sum of 5) | P4 peak RSS MiB |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label in seasons:
        p3, p4 = report["seasons"][label]["phase3"], report["seasons"][label]["phase4"]
        lines.append(f"| {label} | {p3['dates']} | {_fmt(p3['wall_seconds'])} | {_fmt(p3['invocation_cpu_seconds'])} | "
                     f"{_fmt(p3['median_ms_per_date'])} | {_fmt(p3['peak_rss_mib'], 0)} | {p4['dates']} | {_fmt(p4['wall_seconds'])} | "
                     f"{_fmt(p4['invocation_cpu_seconds'])} | {_fmt(p4['wall_ms_per_date'])} | {_fmt(p4['median_ms_per_date'])} | "
                     f"{_fmt(p4['peak_rss_mib'], 0)} |")
    t, ph, gen, bf = report["targets"], report["phases"], report["generation"], report["backfill"]
    r = report["ratio_last_to_first"]
    lines += ["", "| measure | value | target |", "|---|---:|---|",
              f"| sample generation | {_fmt(gen['seconds'])} s, {gen['rows']:,} rows, peak RSS {_fmt(gen['peak_rss_mib'], 0)} MiB | measured separately |",
              f"| Phase 3 wall (processor loop) | {_fmt(ph['phase3']['wall_seconds'])} s | |",
              f"| Phase 4 wall (processor loop) | {_fmt(ph['phase4']['wall_seconds'])} s | < 120 s {_mark(t['phase4_seconds']['met'])} (goal 60 s {_mark(t['phase4_seconds']['goal_met'])}) |",
              f"| Phase 3 + 4 CLI invocations (incl. planning) | {_fmt(bf['seconds'])} s wall, {_fmt(bf['cpu_seconds'])} s CPU "
              f"(P3 {_fmt(ph['phase3']['invocation_cpu_seconds'])}, P4 {_fmt(ph['phase4']['invocation_cpu_seconds'])}) | |",
              f"| peak RSS, Phase 3 + 4 run | {_fmt(bf['peak_rss_mib'], 0)} MiB (VmHWM {_fmt(bf['vm_hwm_mib'], 0)}) | < 1024 MiB {_mark(t['peak_rss_mib']['met'])} |",
              f"| statements per (processor, date), P3 + P4 | {_fmt(t['statements_per_date']['value'], 2)} "
              f"(incl. per-run overhead: P3 {_fmt(ph['phase3']['statements_incl_overhead_per_date'], 2)}, "
              f"P4 {_fmt(ph['phase4']['statements_incl_overhead_per_date'], 2)}) | ≤ 3 {_mark(t['statements_per_date']['met'])} |",
              f"| per-date cost {r['last']} / {r['first']}, Phase 4 median ms | {_fmt(r['phase4_median_ms_per_date'], 2)} | < 1.5 {_mark(t['ratio_last_to_first']['met'])} |",
              f"| same, Phase 4 wall ms/date (incl. commits) / CPU ms per date | {_fmt(r['phase4_wall_ms_per_date'], 2)} / "
              f"{_fmt(r['phase4_cpu_ms_per_date'], 2)} | |",
              f"| same, Phase 3 median ms / wall ms / CPU ms per date | {_fmt(r['phase3_median_ms_per_date'], 2)} / "
              f"{_fmt(r['phase3_wall_ms_per_date'], 2)} / {_fmt(r['phase3_cpu_ms_per_date'], 2)} | |",
              f"| unit failures / exit codes | {bf['failures']} / {sorted(set(bf['exit_codes'].values()))} | |"]
    return "\n".join(lines)


# ---- the parent -----------------------------------------------------------------------------------
def run_child(kind: str, workdir: Path, db: Path, labels: list[str], through: dt.date | None) -> dict[str, Any]:
    """Run one measured step in a fresh interpreter and read back its JSON result."""
    result_file = workdir / f"{kind}.result.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--db", str(db),
           "--seasons", ",".join(labels), "--result", str(result_file)]
    if through is not None:
        cmd += ["--through", through.isoformat()]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=workdir)
    data = json.loads(result_file.read_text())
    data["process_seconds"] = round(time.perf_counter() - t0, 3)
    return data


def machine_info() -> dict[str, Any]:
    """What the figures were measured on: cores, memory, interpreter and library versions."""
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    versions = {}
    for pkg in ("nba-backfill", "duckdb", "pandas", "numpy", "pyarrow"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {"nproc": cpus, "cpu_count": os.cpu_count(), "mem_total_gib": mem, "load_average_at_end": load,
            "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions}


def git_info() -> dict[str, Any]:
    """The commit measured and whether tracked files differed from it (other work in progress)."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return None

    head = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") or ""
    lines = [line for line in status.splitlines() if line.strip()]
    return {"commit": head.strip() if head else None,
            "dirty": any(not line.startswith("??") for line in lines),
            "modified_files": sum(1 for line in lines if not line.startswith("??")),
            "untracked_files": sum(1 for line in lines if line.startswith("??"))}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark the sample backfill (Phase 3 + Phase 4) on DuckDB.")
    parser.add_argument("--seasons", default=DEFAULT_SEASONS, help="comma-separated season labels")
    parser.add_argument("--output", type=Path, default=None, help="write the JSON report here")
    parser.add_argument("--keep", type=Path, default=None, help="build the warehouse in DIR and keep it")
    parser.add_argument("--through", type=dt.date.fromisoformat, default=None, help="stop data and runs after YYYY-MM-DD")
    parser.add_argument("--child", choices=("generate", "backfill"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Generate, run, measure; print the Markdown tables, write the JSON; return the report."""
    args = parse_args(argv)
    labels = [s.strip() for s in args.seasons.split(",") if s.strip()]
    ranges = season_ranges(labels, args.through)
    if args.child:
        step = child_generate if args.child == "generate" else child_backfill
        args.result.write_text(json.dumps(step(args.db, labels, args.through), default=str))
        return {}
    labels = [label for label, _, _ in ranges]
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        workdir = args.keep.resolve()
        if (workdir / DB_NAME).exists():
            raise SystemExit(f"{workdir / DB_NAME} exists: a re-run would find every unit done; remove it first")
    else:
        workdir = Path(tempfile.mkdtemp(prefix="nba-backfill-bench-"))
    db = workdir / DB_NAME
    started, git_at_start = dt.datetime.now(dt.timezone.utc), git_info()
    load_at_start = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    try:
        generation = run_child("generate", workdir, db, labels, args.through)
        backfill = run_child("backfill", workdir, db, labels, args.through)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    config = {"seasons": labels, "ranges": [[label, s.isoformat(), e.isoformat()] for label, s, e in ranges],
              "through": None if args.through is None else args.through.isoformat(), "seed": SEED,
              "warehouse": str(db) if args.keep is not None else None, "started_at": started.isoformat(timespec="seconds"), "load_average_at_start": load_at_start}
    git_at_end = git_info()
    git = {**git_at_start, "commit_at_end": git_at_end["commit"], "dirty_at_end": git_at_end["dirty"],
           "changed_during_run": git_at_end != git_at_start}
    report = build_report(generation, backfill, config, machine_info(), git)
    print(render_markdown(report))
    if args.output is not None:
        args.output.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return report


if __name__ == "__main__":
    main()
