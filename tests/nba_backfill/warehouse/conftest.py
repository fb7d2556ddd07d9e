"""The `warehouse` fixture: every backend behind the same protocol (BigQuery via the local fake)."""
from __future__ import annotations

import pytest

from nba_backfill.warehouse import connect


@pytest.fixture(params=["duckdb", "bigquery"])
def warehouse(request, tmp_path):
    if request.param == "duckdb":
        wh = connect(f"duckdb:///{tmp_path}/w.duckdb")
    else:
        fake_bigquery = pytest.importorskip("fake_bigquery")
        server = fake_bigquery.FakeBigQuery()
        server.start()
        request.addfinalizer(server.stop)
        wh = connect(f"bigquery://test-project?endpoint={server.url}")
    request.addfinalizer(wh.close)
    return wh
