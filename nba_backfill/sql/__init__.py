"""SQL helpers: BigQuery → DuckDB translation, registry-name resolution, parameter typing.

Everything here is pure text/AST work; only `nba_backfill.warehouse` runs SQL.
"""
from __future__ import annotations

from nba_backfill.sql.dialect import to_duckdb
from nba_backfill.sql.naming import qualify, table_refs
from nba_backfill.sql.params import bigquery_param_type, duckdb_params

#: States that put a unit in the failures view (backfill-engine.md §5).
FAILURE_STATES: tuple[str, ...] = ("FAILED", "BLOCKED", "DEGRADED", "NOT_RUN", "STALE", "NO_SOURCE_DATA")

#: Body of the `nba_backfill.failures` view in BigQuery SQL (both backends create it from
#: this text): the latest ledger row per (processor, unit_date), by finished_at (ties:
#: the higher attempt), kept when its state is a failure state; `attempts` counts the
#: unit's ledger rows.
FAILURES_VIEW_SQL = f"""
SELECT * EXCEPT (_rank)
FROM (
  SELECT
    u.*,
    COUNT(*) OVER (PARTITION BY u.processor, u.unit_date) AS attempts,
    ROW_NUMBER() OVER (
      PARTITION BY u.processor, u.unit_date
      ORDER BY u.finished_at DESC, u.attempt DESC
    ) AS _rank
  FROM nba_backfill.units AS u
)
WHERE _rank = 1
  AND state IN ({", ".join(f"'{s}'" for s in FAILURE_STATES)})
""".strip()

__all__ = [
    "FAILURES_VIEW_SQL",
    "FAILURE_STATES",
    "bigquery_param_type",
    "duckdb_params",
    "qualify",
    "table_refs",
    "to_duckdb",
]
