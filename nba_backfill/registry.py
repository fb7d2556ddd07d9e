"""The processor registry: the single source of truth for run order, gates, tables and wrappers."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from nba_backfill.errors import RegistryError, UsageError
from nba_backfill.processor import ProcessorSpec
from nba_backfill.tables import TABLES, TableSpec

#: The Phase 3 processor that produces the same-date player context.
CONTEXT_PROCESSOR = "upcoming_player_game_context"


@dataclass(frozen=True)
class Registry:
    """Processors in run order (Phase 3 first, then Phase 4 in the documented order)."""

    processors: tuple[ProcessorSpec, ...]

    def names(self, phase: int | None = None) -> list[str]:
        return [p.name for p in self.processors if phase is None or p.phase == phase]

    def get(self, name: str) -> ProcessorSpec:
        for spec in self.processors:
            if spec.name == name:
                return spec
        raise UsageError(f"unknown processor {name!r} (known: {', '.join(self.names())})")

    def output(self, name: str) -> TableSpec:
        return TABLES[self.get(name).output_table]

    def gates(self, name: str) -> tuple[str, ...]:
        """Same-date units this processor reads: Phase 4 upstreams, plus the context when needed."""
        spec = self.get(name)
        return ((CONTEXT_PROCESSOR,) if spec.needs_context else ()) + spec.upstreams

    def downstream(self, name: str) -> list[str]:
        """Processors that read `name`'s same-date output (directly)."""
        return [p.name for p in self.processors if name in self.gates(p.name)]

    def ordered(self, names: Iterable[str]) -> list[str]:
        """The given processors in registry run order."""
        wanted = set(names)
        for n in wanted:
            self.get(n)
        return [p.name for p in self.processors if p.name in wanted]


def validate(processors: Sequence[ProcessorSpec]) -> Registry:
    """Reject unknown tables, duplicate names/outputs and upstreams that do not run earlier."""
    seen: set[str] = set()
    outputs: set[str] = set()
    for spec in processors:
        if spec.name in seen:
            raise RegistryError(f"duplicate processor {spec.name}")
        if spec.output_table in outputs:
            raise RegistryError(f"two processors write {spec.output_table}")
        for table_name in [spec.output_table, *(i.table for i in spec.inputs)]:
            if table_name not in TABLES:
                raise RegistryError(f"processor {spec.name} names unknown table {table_name}")
        if spec.date_column not in TABLES[spec.output_table].by_name:
            raise RegistryError(f"{spec.output_table} has no date column {spec.date_column}")
        missing = [u for u in spec.upstreams if u not in seen]
        if missing:
            raise RegistryError(f"processor {spec.name} depends on {missing}, which must run before it")
        seen.add(spec.name)
        outputs.add(spec.output_table)
    return Registry(tuple(processors))


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The registry of the processors shipped in `data_processors`."""
    from data_processors import load_specs

    return validate(load_specs())
