"""The table registry: every table the tool reads or writes, loaded from the table contract.

`contract/tables.json` is a copy of the specification's machine-readable contract; the
ledger tables of the engine spec (§5) are declared here. No other module spells a
`dataset.table` name except through this registry.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

from nba_backfill.errors import RegistryError

_NUMERIC = re.compile(r"^NUMERIC\((\d+),\s*(\d+)\)$")


@dataclass(frozen=True)
class Column:
    """One contract column: BigQuery type as written in the DDL and its mode."""

    name: str
    type: str
    mode: str = "NULLABLE"

    @property
    def required(self) -> bool:
        return self.mode == "REQUIRED"

    @property
    def repeated(self) -> bool:
        return self.mode == "REPEATED" or self.type.startswith("ARRAY<")

    @property
    def base_type(self) -> str:
        """Scalar type without precision or ARRAY wrapper: NUMERIC, STRING, FLOAT64, ..."""
        t = self.type
        if t.startswith("ARRAY<"):
            t = t[len("ARRAY<") : -1]
        return t.split("(")[0]

    @property
    def numeric_scale(self) -> int | None:
        """The scale S of NUMERIC(P,S), None for other types."""
        m = _NUMERIC.match(self.type)
        return int(m.group(2)) if m else None

    @property
    def numeric_precision(self) -> int | None:
        m = _NUMERIC.match(self.type)
        return int(m.group(1)) if m else None


@dataclass(frozen=True)
class TableSpec:
    """One table of the contract: its name, columns, partitioning and logical key."""

    name: str  # "dataset.table"
    columns: tuple[Column, ...]
    partition: str | None = None
    primary_key: tuple[str, ...] = ()
    cluster: tuple[str, ...] = ()
    require_partition_filter: bool = False
    role: str = ""
    production_expiration_days: int | None = None
    added_columns: tuple[str, ...] = field(default=())
    partition_is_range: bool = False

    @property
    def dataset(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def is_output(self) -> bool:
        return self.role.startswith("output")

    @cached_property
    def by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        try:
            return self.by_name[name]
        except KeyError:
            raise RegistryError(f"table {self.name} has no column {name!r}") from None


def _from_contract(name: str, raw: dict) -> TableSpec:
    spec = raw.get("partition_spec") or ""
    return TableSpec(
        name=name,
        columns=tuple(Column(c["name"], c["type"], c.get("mode", "NULLABLE")) for c in raw["columns"]),
        partition=raw.get("partition"),
        primary_key=tuple(raw.get("primary_key") or ()),
        cluster=tuple(raw.get("cluster") or ()),
        require_partition_filter=bool(raw.get("require_partition_filter")),
        role=raw.get("role", ""),
        production_expiration_days=raw.get("production_ddl_partition_expiration_days"),
        added_columns=tuple(raw.get("added_columns") or ()),
        partition_is_range="RANGE_BUCKET" in str(spec),
    )


def _ledger_tables() -> dict[str, TableSpec]:
    s, i, d, ts, b = "STRING", "INT64", "DATE", "TIMESTAMP", "BOOLEAN"
    runs = TableSpec(
        name="nba_backfill.runs",
        columns=tuple(
            Column(n, t, m)
            for n, t, m in [
                ("run_id", s, "REQUIRED"), ("command", s, "NULLABLE"), ("options", "JSON", "NULLABLE"),
                ("processors", s, "NULLABLE"), ("start_date", d, "NULLABLE"), ("end_date", d, "NULLABLE"),
                ("started_at", ts, "REQUIRED"), ("finished_at", ts, "NULLABLE"), ("code_version", s, "NULLABLE"),
                ("warehouse", s, "NULLABLE"), ("backfill_mode", b, "NULLABLE"), ("outcome_counts", "JSON", "NULLABLE"),
                ("exit_code", i, "NULLABLE"), ("statements", i, "NULLABLE"),
            ]
        ),
        partition=None,
        primary_key=("run_id", "finished_at"),
        role="ledger",
    )
    units = TableSpec(
        name="nba_backfill.units",
        columns=tuple(
            Column(n, t, m)
            for n, t, m in [
                ("run_id", s, "REQUIRED"), ("processor", s, "REQUIRED"), ("unit_date", d, "REQUIRED"),
                ("state", s, "REQUIRED"), ("reason", s, "NULLABLE"), ("rows_written", i, "NULLABLE"),
                ("entities_eligible", i, "NULLABLE"), ("entities_written", i, "NULLABLE"),
                ("entities_skipped", i, "NULLABLE"), ("duration_ms", i, "NULLABLE"), ("attempt", i, "NULLABLE"),
                ("error_class", s, "NULLABLE"), ("error_message", s, "NULLABLE"),
                ("upstream_fingerprint", s, "NULLABLE"), ("code_version", s, "NULLABLE"),
                ("started_at", ts, "NULLABLE"), ("finished_at", ts, "REQUIRED"), ("warnings", "ARRAY<STRING>", "REPEATED"),
            ]
        ),
        partition="unit_date",
        primary_key=("run_id", "processor", "unit_date", "attempt"),
        role="ledger",
    )
    leases = TableSpec(
        name="nba_backfill.leases",
        columns=tuple(
            Column(n, t, m)
            for n, t, m in [
                ("processor", s, "REQUIRED"), ("run_id", s, "REQUIRED"), ("holder", s, "NULLABLE"),
                ("action", s, "REQUIRED"), ("heartbeat_at", ts, "REQUIRED"),
            ]
        ),
        role="ledger",
    )
    return {t.name: t for t in (runs, units, leases)}


def _load() -> dict[str, TableSpec]:
    text = resources.files("nba_backfill").joinpath("contract/tables.json").read_text(encoding="utf-8")
    tables = {name: _from_contract(name, raw) for name, raw in json.loads(text).items()}
    tables.update(_ledger_tables())
    return tables


TABLES: dict[str, TableSpec] = _load()

#: The ledger view of spec §5: latest unit per (processor, date) in a not-done state.
FAILURES_VIEW = "nba_backfill.failures"


def table(name: str) -> TableSpec:
    """Look a table up by "dataset.table", raising RegistryError for unknown names."""
    try:
        return TABLES[name]
    except KeyError:
        raise RegistryError(f"unknown table {name!r}") from None


def datasets() -> list[str]:
    """Every dataset of the registry, in first-seen order."""
    return list(dict.fromkeys(t.dataset for t in TABLES.values()))
