"""The outcome of a run: per-unit results, counts by state, exit code and retry commands."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from nba_backfill.constants import NO_SOURCE_DATA_MAX_SHARE

OK_STATES = frozenset({"COMPLETE", "EXPECTED_EMPTY", "SKIPPED_BOOTSTRAP", "NO_GAMES"})
BAD_STATES = frozenset({"FAILED", "BLOCKED", "DEGRADED", "NOT_RUN", "STALE"})


@dataclass
class UnitOutcome:
    """What happened to one unit in this run (or why it was skipped)."""

    processor: str
    day: dt.date
    state: str
    reason: str | None = None
    rows: int = 0
    error_class: str | None = None
    error_message: str | None = None
    warnings: list[str] = field(default_factory=list)
    duration_ms: int = 0
    attempt: int = 1
    skipped_as_done: bool = False


@dataclass
class RunSummary:
    """Everything the CLI renders after a run and the exit code it returns."""

    run_id: str
    processors: list[str]
    outcomes: list[UnitOutcome] = field(default_factory=list)
    interrupted: bool = False
    dry_run: bool = False
    statements: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    wrappers: dict[str, str] = field(default_factory=dict)
    phase_commands: dict[str, str] = field(default_factory=dict)
    #: Load jobs per table issued by the run (BigQuery; empty on DuckDB).
    load_jobs: dict[str, int] = field(default_factory=dict)
    #: Dry run: the input queries the run would issue (with estimated bytes where available).
    planned_statements: list[dict] = field(default_factory=list)

    def counts(self) -> dict[str, Counter]:
        out: dict[str, Counter] = {p: Counter() for p in self.processors}
        for o in self.outcomes:
            out.setdefault(o.processor, Counter())["DONE_EARLIER" if o.skipped_as_done else o.state] += 1
        return out

    def failures(self) -> list[UnitOutcome]:
        return [o for o in self.outcomes if o.state in BAD_STATES and not o.skipped_as_done]

    def gaps(self) -> list[UnitOutcome]:
        return [o for o in self.outcomes if o.state == "NO_SOURCE_DATA"]

    def exit_code(self) -> int:
        """0 ok; 1 any failed/blocked/degraded/not-run/stale or too many data gaps; 130 interrupted."""
        if self.interrupted:
            return 130
        if self.failures():
            return 1
        for proc in self.processors:
            units = [o for o in self.outcomes if o.processor == proc and o.state not in ("NO_GAMES",)]
            gaps = [o for o in units if o.state == "NO_SOURCE_DATA"]
            if units and len(gaps) > NO_SOURCE_DATA_MAX_SHARE * len(units):
                return 1
        return 0

    def retry_commands(self) -> list[str]:
        """The exact commands that re-run the failed dates: CLI form, then wrapper form, per processor."""
        lines: list[str] = []
        by_proc: dict[str, list[dt.date]] = {}
        for o in self.failures():
            by_proc.setdefault(o.processor, []).append(o.day)
        for proc, days in by_proc.items():
            dates = ",".join(d.isoformat() for d in sorted(set(days)))
            lines.append(f"{self.phase_commands.get(proc, 'nba-backfill phase4 run')} --processor {proc} --dates {dates}")
            if proc in self.wrappers:
                lines.append(f"python {self.wrappers[proc]} --dates {dates}")
        return lines

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "exit_code": self.exit_code(),
            "counts": {p: dict(c) for p, c in self.counts().items()},
            "statements": self.statements,
            "load_jobs": self.load_jobs,
            "planned_statements": self.planned_statements,
            "seconds": {p: round(s, 3) for p, s in self.seconds.items()},
            "failures": [
                {
                    "processor": o.processor,
                    "date": o.day.isoformat(),
                    "state": o.state,
                    "reason": o.reason,
                    "error_class": o.error_class,
                    "error_message": o.error_message,
                    "attempt": o.attempt,
                }
                for o in self.failures()
            ],
            "data_gaps": [{"processor": o.processor, "date": o.day.isoformat(), "reason": o.reason} for o in self.gaps()],
            "retry_commands": self.retry_commands(),
        }
