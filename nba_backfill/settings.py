"""Run settings resolved from global flags and the environment, once, in the CLI callback."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_WAREHOUSE = "NBA_BACKFILL_WAREHOUSE"
DEFAULT_DB_NAME = "nba_warehouse.duckdb"


@dataclass(frozen=True)
class Settings:
    """Global options of one CLI invocation."""

    #: Warehouse URL: duckdb:///path (default: ./nba_warehouse.duckdb) or bigquery://PROJECT[?location=...]
    warehouse: str
    #: Machine-readable JSON on stdout instead of the human output.
    json: bool = False
    #: Diagnostics logging on stderr.
    verbose: bool = False
    #: Re-raise errors with a traceback instead of the one-line message.
    debug: bool = False


def default_warehouse(cwd: Path | None = None) -> str:
    """The embedded default: a DuckDB file in the working directory."""
    return f"duckdb:///{(cwd or Path.cwd()) / DEFAULT_DB_NAME}"


def resolve(warehouse: str | None, json: bool, verbose: bool, debug: bool) -> Settings:
    url = warehouse or os.environ.get(ENV_WAREHOUSE) or default_warehouse()
    return Settings(warehouse=url, json=json, verbose=verbose, debug=debug)
