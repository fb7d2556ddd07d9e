"""Open a warehouse from its URL: the one place a backend is chosen."""
from __future__ import annotations

from nba_backfill.warehouse.base import Warehouse
from nba_backfill.warehouse.urls import WarehouseURL, parse_url

__all__ = ["Warehouse", "WarehouseURL", "connect", "parse_url"]


def connect(url: str) -> Warehouse:
    """Open the warehouse `url` names (`duckdb:///…` or `bigquery://PROJECT[?…]`).

    The BigQuery client library is imported only when a BigQuery URL is opened.

    Raises:
        ConfigError: the URL does not parse.
        EnvironmentProblem: the warehouse cannot be opened.
    """
    parsed = parse_url(url)
    if parsed.kind == "duckdb":
        from nba_backfill.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(parsed.path or ":memory:", url=url)
    from nba_backfill.warehouse.bigquery import BigQueryWarehouse

    return BigQueryWarehouse(
        project=parsed.project,
        location=parsed.location,
        endpoint=parsed.endpoint,
        dataset_prefix=parsed.dataset_prefix,
    )
