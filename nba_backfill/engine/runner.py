"""Run units of work: plan, gate, load, compute, validate, write atomically, verify, record.

Processors run strictly one after another over the whole range, each day by day (oldest
first). Errors of one unit are recorded and the run goes on; anything that is not a
BackfillError raised outside compute() is a bug and propagates.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from nba_backfill import __version__
from nba_backfill.constants import COVERAGE_MIN_PCT
from nba_backfill.dates import season_of, season_start
from nba_backfill.engine.ledger import READY_STATES, LatestUnit, Ledger, UnitRecord, fingerprint
from nba_backfill.engine.loader import SCHEDULE, BlockInputs, InputCache, block_reads, load_calendar, load_phase3_gaps
from nba_backfill.engine.plan import Calendar, PlannedUnit, gaps_before, plan_processor, season_blocks
from nba_backfill.engine.summary import RunSummary, UnitOutcome
from nba_backfill.engine.writer import BatchWriter, warehouse_failure
from nba_backfill.rowcheck import validate_rows
from nba_backfill.errors import EnvironmentProblem, WarehouseError
from nba_backfill.processor import ProcessorResult, ProcessorSpec
from nba_backfill.registry import CONTEXT_PROCESSOR, Registry
from nba_backfill.tables import TABLES
from nba_backfill.warehouse.base import Warehouse

HEARTBEAT_EVERY = dt.timedelta(minutes=5)
BLOCK_SPAN_DAYS = 31
#: Young-generation GC threshold during a run. pandas allocates thousands of short-lived container
#: objects per unit, so CPython's default (700) ran a collection every few operations: ~10 % of a
#: Phase 4 run's CPU. Cycles are still collected, just in larger batches; the default is restored after.
RUN_GC_THRESHOLD = (20_000, 20, 20)


@contextlib.contextmanager
def _batched_gc():
    previous = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


class Progress(Protocol):
    """What the runner reports while it works (the CLI renders it; tests pass a no-op)."""

    def start(self, processor: str, total: int) -> None: ...
    def advance(self, processor: str, day: dt.date, state: str) -> None: ...
    def finish(self, processor: str) -> None: ...


class NullProgress:
    def start(self, processor: str, total: int) -> None: ...
    def advance(self, processor: str, day: dt.date, state: str) -> None: ...
    def finish(self, processor: str) -> None: ...


@dataclass(frozen=True)
class RunRequest:
    """A validated request: processors in run order and the dates (range or explicit list)."""

    processors: tuple[str, ...]
    start: dt.date
    end: dt.date
    dates: tuple[dt.date, ...] | None = None
    force: bool = False
    retry_failed: bool = False
    dry_run: bool = False
    skip_preflight: bool = False
    fail_fast: int = 5
    command: str = ""
    #: Dates committed per transaction, and the span of dates whose inputs are read at once.
    batch_days: int = BLOCK_SPAN_DAYS
    #: Test hook: processor name -> dates on which compute raises (engine tests only).
    fail_on: dict[str, frozenset[dt.date]] = field(default_factory=dict)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class _Interrupt:
    """Turns SIGINT/SIGTERM into a flag checked between units, so no unit is cut in half."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, object] = {}

    def __enter__(self) -> _Interrupt:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread (e.g. inside a test runner thread)
                pass
        return self

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]


class Runner:
    """Executes RunRequests against one warehouse; the only writer of outputs and the ledger."""

    def __init__(self, warehouse: Warehouse, registry: Registry, progress: Progress | None = None,
                 clock: Callable[[], dt.datetime] = _now) -> None:
        self.warehouse = warehouse
        self.registry = registry
        self.progress = progress or NullProgress()
        self.ledger = Ledger(warehouse)
        self.clock = clock

    # ---- preparation ---------------------------------------------------------
    def require_inputs(self, processors: Sequence[str]) -> None:
        """Fail with exit 3 naming a missing input table and the command that fills it."""
        for name in processors:
            for spec in self.registry.get(name).inputs:
                if spec.table in (SCHEDULE,) and not self.warehouse.table_exists(spec.table):
                    raise EnvironmentProblem(
                        f"table {spec.table} is missing: fill the warehouse first "
                        f"(embedded: `nba-backfill sample load --seasons 2021-22`)"
                    )
        if CONTEXT_PROCESSOR not in processors and any(self.registry.get(p).needs_context for p in processors):
            if not self.warehouse.table_exists("nba_analytics.upcoming_player_game_context"):
                raise EnvironmentProblem(
                    "table nba_analytics.upcoming_player_game_context is missing: run "
                    "`nba-backfill phase3 run --processor upcoming_player_game_context --start-date ... --end-date ...` first"
                )

    def plan(self, request: RunRequest) -> tuple[Calendar, dict[str, list[PlannedUnit]], list[dt.date], dict[tuple[str, dt.date], LatestUnit]]:
        cal = load_calendar(self.warehouse, request.start, request.end)
        if request.dates is not None:
            days = [d for d in request.dates if d in set(cal.game_dates)]
            no_games = [d for d in request.dates if d not in set(cal.game_dates)]
        else:
            days, no_games = cal.games_in(request.start, request.end), []
        gate_names = sorted({g for p in request.processors for g in self.registry.gates(p)} | set(request.processors))
        latest = self.ledger.latest(gate_names, request.start, request.end) if self.warehouse.table_exists("nba_backfill.units") else {}
        plans = {
            p: plan_processor(self.registry.get(p), days, cal, latest, force=request.force, retry_failed=request.retry_failed)
            for p in request.processors
        }
        return cal, plans, no_games, latest

    def input_cache(self, plans: dict[str, list[PlannedUnit]]) -> InputCache:
        """The run's cache of the tables it only reads (processors in run order, their run dates)."""
        procs = list(plans)
        return InputCache(self.warehouse, [self.registry.get(p) for p in procs],
                          sorted({u.day for p in procs for u in plans[p] if u.action == "run"}),
                          written=[self.registry.get(p).output_table for p in self.registry.names()])

    def planned_statements(self, plans: dict[str, list[PlannedUnit]], batch_days: int = BLOCK_SPAN_DAYS) -> list[dict]:
        """The input queries the run would issue, in order (from the same block and cache decisions as
        the run itself), with bytes where the backend estimates them."""
        estimate = getattr(self.warehouse, "estimate_bytes", None)
        cache = self.input_cache(plans)
        out = []
        for proc, units in plans.items():
            spec = self.registry.get(proc)
            for block in season_blocks([u.day for u in units if u.action == "run"], batch_days):
                for sql, params in block_reads(spec, block, cache):
                    item = {"processor": proc, "sql": sql, "params": {k: str(v) for k, v in (params or {}).items()}}
                    if estimate is not None:
                        item["bytes"] = estimate(sql, params)
                    out.append(item)
        return out

    def _check_load_quota(self, plans: dict[str, list[PlannedUnit]], batch_days: int) -> None:
        """Refuse a run whose planned load jobs on one table exceed the backend's daily quota.

        Outputs are written through staging tables (no load job on the output table), so the
        busiest table is the ledger's `nba_backfill.units`: one append per committed batch and
        a few per processor. Jobs already spent today by other runs are not known here.
        """
        limit = getattr(self.warehouse, "load_jobs_per_table_per_day", None)
        if not limit:
            return
        runs = {p: sorted(u.day for u in units if u.action == "run") for p, units in plans.items()}
        jobs = sum(-(-len(days) // batch_days) + 3 for days in runs.values())
        if jobs > limit:
            days = sorted({d for ds in runs.values() for d in ds})
            raise EnvironmentProblem(
                f"this run would need about {jobs} load jobs on nba_backfill.units today, over the {limit} per table "
                f"per day BigQuery allows; split the range (e.g. --start-date {days[0]} --end-date "
                f"{days[len(days) // 2]}, then the rest tomorrow)"
            )

    # ---- execution -------------------------------------------------------------
    def run(self, request: RunRequest) -> RunSummary:
        run_id = f"{self.clock():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        procs = list(request.processors)
        summary = RunSummary(run_id=run_id, processors=procs, dry_run=request.dry_run)
        for p in procs:
            spec = self.registry.get(p)
            summary.wrappers[p] = spec.wrapper
            summary.phase_commands[p] = f"nba-backfill phase{spec.phase} run"
        self.require_inputs(procs)
        cal, plans, no_games, latest = self.plan(request)
        for p in procs:
            summary.outcomes.extend(UnitOutcome(p, d, "NO_GAMES", "no final games on this date") for d in no_games)
        if request.dry_run:
            for p in procs:
                summary.outcomes.extend(_predicted(u) for u in plans[p])
            summary.planned_statements = self.planned_statements({p: plans[p] for p in procs}, request.batch_days)
            return summary
        self._check_load_quota(plans, request.batch_days)
        gaps = {} if request.skip_preflight else load_phase3_gaps(self.warehouse, cal, request.start, request.end)
        if request.skip_preflight and hasattr(self.warehouse, "check_partition_expiration"):
            self.warehouse.check_partition_expiration = False  # type: ignore[attr-defined]
        self.ledger.ensure()
        self.warehouse.create_tables([TABLES[self.registry.get(p).output_table] for p in procs])
        holder = f"{socket.gethostname()}:{os.getpid()}"
        started = self.clock()
        self.ledger.acquire(procs, run_id, holder, started)
        self.ledger.record_run({
            "run_id": run_id, "command": request.command, "processors": ",".join(procs),
            "start_date": request.start, "end_date": request.end, "started_at": started,
            "code_version": __version__, "warehouse": self.warehouse.url, "backfill_mode": True,
            "options": {"force": request.force, "retry_failed": request.retry_failed, "skip_preflight": request.skip_preflight,
                        "fail_fast": request.fail_fast, "dates": [d.isoformat() for d in request.dates or []],
                        "backfill_mode": True},
        })
        state = _RunState(run_id=run_id, latest=dict(latest), holder=holder, last_beat=started, calendar=cal)
        cache = self.input_cache({p: plans[p] for p in procs})
        try:
            with _Interrupt() as interrupt, _batched_gc():
                for p in procs:
                    before, t0 = self.warehouse.statements, time.perf_counter()
                    self._run_processor(self.registry.get(p), plans[p], gaps, request, state, summary, interrupt, cache)
                    summary.statements[p] = self.warehouse.statements - before
                    summary.load_jobs = dict(getattr(self.warehouse, "load_jobs", {}) or {})
                    summary.seconds[p] = time.perf_counter() - t0
                summary.interrupted = interrupt.requested
            self._mark_stale(procs, [o for o in summary.outcomes if o.rows or o.state in ("COMPLETE", "EXPECTED_EMPTY", "DEGRADED")], state)
        finally:
            self.ledger.flush()
            self.ledger.release(procs, run_id, holder, self.clock())
            counts = {p: dict(c) for p, c in summary.counts().items()}
            self.ledger.record_run({"run_id": run_id, "command": request.command, "processors": ",".join(procs),
                                    "start_date": request.start, "end_date": request.end, "started_at": started,
                                    "finished_at": self.clock(), "code_version": __version__, "warehouse": self.warehouse.url,
                                    "backfill_mode": True, "outcome_counts": counts, "exit_code": summary.exit_code(),
                                    "statements": sum(summary.statements.values())})
        return summary

    def _run_processor(self, spec: ProcessorSpec, units: list[PlannedUnit], gaps: dict[dt.date, list[str]],
                       request: RunRequest, state: _RunState, summary: RunSummary, interrupt: _Interrupt,
                       cache: InputCache | None = None) -> None:
        to_run = [u for u in units if u.action == "run"]
        self.progress.start(spec.name, len(units))
        for u in units:
            if u.action == "done":
                summary.outcomes.append(UnitOutcome(spec.name, u.day, u.previous or "COMPLETE", skipped_as_done=True))
                self.progress.advance(spec.name, u.day, "done")
            elif u.action == "bootstrap":
                k = state.calendar.bootstrap_day(u.day)
                outcome = UnitOutcome(spec.name, u.day, "SKIPPED_BOOTSTRAP", f"bootstrap day {k} of season {season_of(u.day)}")
                summary.outcomes.append(outcome)
                if u.previous != "SKIPPED_BOOTSTRAP":
                    self._record(outcome, state, None)
                self.progress.advance(spec.name, u.day, "SKIPPED_BOOTSTRAP")
        def done(outcome: UnitOutcome, result: ProcessorResult | None) -> None:
            summary.outcomes.append(outcome)
            self._record(outcome, state, result)
            self.progress.advance(spec.name, outcome.day, outcome.state)

        writer = BatchWriter(self.warehouse, spec, request.batch_days, done, self.ledger.flush)
        consecutive: tuple[str | None, int] = (None, 0)
        stopped = False
        for block in season_blocks([u.day for u in to_run], request.batch_days):
            inputs: BlockInputs | None = None
            for day in block:
                if interrupt.requested or stopped:
                    outcome = UnitOutcome(spec.name, day, "NOT_RUN", "interrupted" if interrupt.requested else
                                          f"fail-fast: {request.fail_fast} consecutive {consecutive[0]} failures")
                    summary.outcomes.append(outcome)
                    self._record(outcome, state, None)
                    continue
                self._heartbeat(state)
                blocked = self._gate(spec, day, state)
                if blocked is not None:
                    summary.outcomes.append(blocked)
                    self._record(blocked, state, None)
                    self.progress.advance(spec.name, day, blocked.state)
                    continue
                if inputs is None:
                    try:
                        inputs = BlockInputs(self.warehouse, spec, block, cache)
                    except WarehouseError as exc:  # this unit fails; the next one tries to load again
                        outcome, rows, result = warehouse_failure(spec.name, day, exc, "loading inputs"), None, None
                if inputs is not None:
                    outcome, rows, result = self._compute(spec, day, inputs, request, gaps, state)
                if outcome.state == "FAILED":
                    cls = outcome.error_class
                    consecutive = (cls, consecutive[1] + 1) if consecutive[0] == cls else (cls, 1)
                    stopped = consecutive[1] >= request.fail_fast
                else:
                    consecutive = (None, 0)
                if rows is not None:
                    writer.add(outcome, rows, result)
                else:
                    summary.outcomes.append(outcome)
                    self._record(outcome, state, None)
                    self.progress.advance(spec.name, day, outcome.state)
            writer.commit()
        writer.commit()
        self.ledger.flush()
        self.progress.finish(spec.name)

    def _heartbeat(self, state: _RunState) -> None:
        now = self.clock()
        if now - state.last_beat >= HEARTBEAT_EVERY:
            procs = sorted({p for p, _ in state.latest})
            self.ledger.heartbeat([p for p in procs if p in self.registry.names()], state.run_id, state.holder, now)
            state.last_beat = now

    def _gate(self, spec: ProcessorSpec, day: dt.date, state: _RunState) -> UnitOutcome | None:
        """BLOCKED or NO_SOURCE_DATA when a same-date upstream is not ready, else None."""
        for up in self.registry.gates(spec.name):
            prev = state.latest.get((up, day))
            if prev is None:
                if self._partition_rows(up, day, state) > 0:
                    continue
                hint = f"nba-backfill phase{self.registry.get(up).phase} run --processor {up} --dates {day}"
                return UnitOutcome(spec.name, day, "BLOCKED", f"upstream {up} has no rows for {day}: run `{hint}`")
            if prev.state in READY_STATES:
                continue
            if up == CONTEXT_PROCESSOR and prev.state == "NO_SOURCE_DATA":
                return UnitOutcome(spec.name, day, "NO_SOURCE_DATA", f"upstream {up}: {prev.reason or 'no source data'}")
            return UnitOutcome(spec.name, day, "BLOCKED", f"upstream {up} is {prev.state}")
        return None

    def _partition_rows(self, processor: str, day: dt.date, state: _RunState) -> int:
        """Rows of an upstream's partition written by another system (no ledger record); cached per season."""
        key = (processor, season_of(day))
        if key not in state.partition_counts:
            spec = self.registry.get(processor)
            table = TABLES[spec.output_table]
            counts: dict[dt.date, int] = {}
            if self.warehouse.table_exists(table.name):
                df = self.warehouse.query(
                    f"SELECT {spec.date_column} AS d, COUNT(*) AS n FROM {table.name} "
                    f"WHERE {spec.date_column} BETWEEN @lo AND @hi GROUP BY {spec.date_column}",
                    {"lo": season_start(season_of(day)), "hi": season_start(season_of(day) + 1) - dt.timedelta(days=1)},
                )
                counts = {pd.Timestamp(d).date(): int(n) for d, n in zip(df["d"], df["n"])}
            state.partition_counts[key] = counts
        return state.partition_counts[key].get(day, 0)

    def _compute(self, spec: ProcessorSpec, day: dt.date, inputs: BlockInputs, request: RunRequest,
                 gaps: dict[dt.date, list[str]], state: _RunState):
        t0 = time.perf_counter()
        run_ts = self.clock()
        warnings: list[str] = []
        for up in self.registry.gates(spec.name):
            prev = state.latest.get((up, day))
            if prev is not None and prev.state == "DEGRADED":
                warnings.append(f"upstream_degraded: {up}")
        if spec.phase == 4:
            missing = gaps_before(day, gaps)
            if missing:
                warnings.append(f"phase3_lookback_gap: {len(missing)} final-game dates without Phase 3 rows "
                                f"({', '.join(d.isoformat() for d in missing[:3])}{', ...' if len(missing) > 3 else ''})")
        try:
            if day in request.fail_on.get(spec.name, frozenset()):
                raise RuntimeError(f"injected failure for {spec.name} on {day}")
            result = spec.compute(day, inputs.for_date(day), run_ts)
            if result.outcome in ("COMPLETE", "DEGRADED", "EXPECTED_EMPTY"):
                rows = validate_rows(result.rows, TABLES[spec.output_table], day, spec.date_column)
            else:
                rows = None
        except Exception as exc:  # noqa: BLE001 - a processor bug fails its unit, never the run
            ms = int((time.perf_counter() - t0) * 1000)
            return UnitOutcome(spec.name, day, "FAILED", str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__,
                               error_class=type(exc).__name__, error_message=str(exc)[:2000], duration_ms=ms), None, None
        ms = int((time.perf_counter() - t0) * 1000)
        state_name = result.outcome
        reason = result.reason
        if rows is not None:
            universe = result.entities_eligible if result.entities_eligible is not None else len(rows) + len(result.skipped)
            expected = universe - sum(1 for s in result.skipped if s.category == "insufficient_data")
            coverage = 100.0 if expected <= 0 else 100.0 * len(rows) / expected
            if state_name == "COMPLETE" and coverage < COVERAGE_MIN_PCT:
                state_name, reason = "DEGRADED", f"coverage {coverage:.1f}% ({len(rows)}/{expected} entities)"
            if state_name == "COMPLETE" and warnings:
                state_name, reason = "DEGRADED", "; ".join(warnings)
        warnings.extend(result.warnings)
        outcome = UnitOutcome(spec.name, day, state_name, reason, rows=0 if rows is None else len(rows),
                              warnings=warnings, duration_ms=ms)
        if state_name == "FAILED":
            outcome.error_class = "ProcessorFailed"
            outcome.error_message = reason
        return outcome, rows, result

    def _record(self, outcome: UnitOutcome, state: _RunState, result: ProcessorResult | None) -> None:
        prev = state.latest.get((outcome.processor, outcome.day))
        outcome.attempt = (prev.attempts if prev else 0) + 1
        gates = self.registry.gates(outcome.processor)
        fp_parts = [(g, state.latest[(g, outcome.day)].run_id, state.latest[(g, outcome.day)].rows_written)
                    for g in gates if (g, outcome.day) in state.latest]
        skipped = result.skipped if result is not None else []
        eligible = None
        if result is not None:
            eligible = result.entities_eligible if result.entities_eligible is not None else outcome.rows + len(skipped)
        now = self.clock()
        self.ledger.add(UnitRecord(
            run_id=state.run_id, processor=outcome.processor, unit_date=outcome.day, state=outcome.state,
            reason=outcome.reason, rows_written=outcome.rows if outcome.state in ("COMPLETE", "DEGRADED", "EXPECTED_EMPTY") else 0,
            entities_eligible=eligible, entities_written=outcome.rows if result is not None else None,
            entities_skipped=len(skipped) if result is not None else None, duration_ms=outcome.duration_ms,
            attempt=outcome.attempt, error_class=outcome.error_class, error_message=outcome.error_message,
            upstream_fingerprint=fingerprint(fp_parts) if gates else None, code_version=__version__,
            started_at=now - dt.timedelta(milliseconds=outcome.duration_ms), finished_at=now, warnings=list(outcome.warnings),
        ))
        state.latest[(outcome.processor, outcome.day)] = LatestUnit(
            outcome.state, state.run_id, outcome.rows, None, outcome.attempt, outcome.reason, outcome.error_class, outcome.error_message)

    def _mark_stale(self, procs: Sequence[str], written: Sequence[UnitOutcome], state: _RunState) -> None:
        """Same-date downstream units not re-run after their upstream was re-written become STALE."""
        rewritten = {(o.processor, o.day) for o in written if not o.skipped_as_done}
        downs = sorted({d for p, _ in rewritten for d in self.registry.downstream(p) if d not in procs})
        if not rewritten or not downs:
            return
        days = [d for _, d in rewritten]
        recorded = self.ledger.latest(downs, min(days), max(days))
        for proc, day in sorted(rewritten):
            for down in self.registry.downstream(proc):
                prev = state.latest.get((down, day)) or recorded.get((down, day))
                if down in procs or prev is None or prev.state not in READY_STATES or prev.run_id == state.run_id:
                    continue
                outcome = UnitOutcome(down, day, "STALE", f"upstream {proc} re-written by run {state.run_id}")
                outcome.rows = prev.rows_written or 0
                state.latest.setdefault((down, day), prev)
                self._record(outcome, state, None)
        self.ledger.flush()


@dataclass
class _RunState:
    run_id: str
    latest: dict[tuple[str, dt.date], LatestUnit]
    holder: str
    last_beat: dt.datetime
    calendar: Calendar
    partition_counts: dict[tuple[str, int], dict[dt.date, int]] = field(default_factory=dict)


def _predicted(unit: PlannedUnit) -> UnitOutcome:
    state = {"run": "WILL_RUN", "done": unit.previous or "COMPLETE", "bootstrap": "SKIPPED_BOOTSTRAP",
             "not_selected": unit.previous or "NOT_SELECTED"}[unit.action]
    return UnitOutcome(unit.processor, unit.day, state, skipped_as_done=unit.action in ("done", "not_selected"))
