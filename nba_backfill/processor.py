"""The processor contract: what a processor declares (ProcessorSpec) and returns (ProcessorResult)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

Outcome = str  # COMPLETE, EXPECTED_EMPTY, FAILED, SKIPPED_BOOTSTRAP (+ Phase 3: DEGRADED, NO_GAMES, NO_SOURCE_DATA)


@dataclass(frozen=True)
class Skipped:
    """An entity of the universe that produced no row, and why."""

    entity_id: str
    category: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"entity_id": self.entity_id, "category": self.category, "reason": self.reason}


@dataclass
class ProcessorResult:
    """What compute() returns for one (processor, date): rows, skipped entities, outcome, reason."""

    rows: pd.DataFrame
    outcome: Outcome
    reason: str | None = None
    skipped: list[Skipped] = field(default_factory=list)
    details: Mapping[str, Any] = field(default_factory=dict)
    #: Entities the processor expected to produce a row (universe); None = len(rows) + skipped.
    entities_eligible: int | None = None
    warnings: list[str] = field(default_factory=list)


#: How a loader selects an input table's rows for a date D (all bounds inclusive):
#: - "same_date": partition = D
#: - "season_to_date": partition from 1 October of season(D) through D
#: - "previous_season_to_date": from 1 October of season(D) - 1 through D
#: - "days_back": partition in [D - days, D]
#: - "all": the whole table (small, unpartitioned reference tables)
WindowKind = Literal["same_date", "season_to_date", "previous_season_to_date", "days_back", "all"]


@dataclass(frozen=True)
class InputSpec:
    """One input table of a processor and the window of rows the loader must provide."""

    table: str
    window: WindowKind
    days: int = 0
    columns: tuple[str, ...] | None = None  # None = every contract column


ComputeFn = Callable[..., ProcessorResult]


def wrapper_path(name: str, phase: int) -> str:
    """The deploy path of a processor's backfill wrapper (Phase 3: analytics, Phase 4: precompute)."""
    group = "analytics" if phase == 3 else "precompute"
    return f"backfill_jobs/{group}/{name}/{name}_{group}_backfill.py"


@dataclass(frozen=True)
class ProcessorSpec:
    """Everything the engine needs to know about a processor; the registry holds one per processor."""

    name: str
    phase: int
    output_table: str
    date_column: str
    inputs: tuple[InputSpec, ...]
    compute: ComputeFn
    #: Same-date Phase 4 upstream processors that must be ready (gate).
    upstreams: tuple[str, ...] = ()
    #: Reads the same-date Phase 3 context (and inherits its NO_SOURCE_DATA).
    needs_context: bool = False
    #: Phase 4 processors skip the bootstrap window; Phase 3 does not.
    bootstrap_skip: bool = True
    description: str = ""
    #: Path of the thin wrapper script, relative to the repository root; derived from the
    #: platform's fixed deploy layout unless given.
    wrapper: str = ""

    def __post_init__(self) -> None:
        if not self.wrapper:
            object.__setattr__(self, "wrapper", wrapper_path(self.name, self.phase))

    def run(self, analysis_date: dt.date, inputs: Mapping[str, pd.DataFrame], run_timestamp: dt.datetime | None = None) -> ProcessorResult:
        return self.compute(analysis_date, inputs, run_timestamp)
