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
def peak_memory() -> dict[str, float | None]:
    """This process's peak RSS in MiB: ru_maxrss (never below the parent's at exec) and VmHWM."""
    raw = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss = raw / 2**20 if sys.platform == "darwin" else raw / 1024
    hwm = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    except OSError:
        pass
    return {"peak_rss_mib": round(maxrss, 1), "vm_hwm_mib": None if hwm is None else round(hwm, 1)}


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
    try:
        t0 = time.perf_counter()
        result = CliRunner().invoke(app, args, catch_exceptions=False)
        wall = time.perf_counter() - t0
    finally:
        warehouse_module.connect = real_connect
        sys.argv = saved_argv
    if result.exit_code not in (0, 1):
        raise RuntimeError(f"`nba-backfill {' '.join(args)}` exited {result.exit_code}: {result.output[-2000:]}")
    return {"exit_code": result.exit_code, "wall_seconds": round(wall, 3), "summary": json.loads(result.stdout),
            "statements_incl_overhead": sum(w.statements for w in opened)}


def child_backfill(db: Path, labels: list[str], through: dt.date | None) -> dict[str, Any]:
    """Phase 3 for every season, then `phase4 run --all` per season; then the ledger rows of those runs."""
    from nba_backfill.registry import default_registry
    from nba_backfill.warehouse import connect

    url = f"duckdb:///{db}"
    runs = []
    for phase in (3, 4):
        for label, start, end in season_ranges(labels, through):
            what = ["phase3", "run", "--processor", PHASE3_PROCESSOR] if phase == 3 else ["phase4", "run", "--all"]
            args = ["--warehouse", url, "--json", *what, "--start-date", start.isoformat(), "--end-date", end.isoformat()]
            out = invoke_cli(args)
            runs.append({"phase": phase, "season": label, "start": start.isoformat(), "end": end.isoformat(),
                         "run_id": out["summary"]["run_id"], "exit_code": out["exit_code"],
                         "wall_seconds": out["wall_seconds"], "statements_incl_overhead": out["statements_incl_overhead"],
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
    return {"runs": runs, "units": units, "processors": order, **peak_memory()}


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
    return {"nproc": cpus, "cpu_count": os.cpu_count(), "mem_total_gib": mem, "platform": platform.platform(),
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
    started = dt.datetime.now(dt.timezone.utc)
    try:
        generation = run_child("generate", workdir, db, labels, args.through)
        backfill = run_child("backfill", workdir, db, labels, args.through)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    config = {"seasons": labels, "ranges": [[label, s.isoformat(), e.isoformat()] for label, s, e in ranges],
              "through": None if args.through is None else args.through.isoformat(), "seed": SEED,
              "warehouse": str(db) if args.keep is not None else None, "started_at": started.isoformat(timespec="seconds")}
    report = build_report(generation, backfill, config, machine_info(), git_info())
    print(render_markdown(report))
    if args.output is not None:
        args.output.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    return report


if __name__ == "__main__":
    main()
