"""Warehouse URL parsing: the accepted forms and one-line errors for everything else."""
from __future__ import annotations

import pytest

from nba_backfill.errors import ConfigError
from nba_backfill.warehouse import connect
from nba_backfill.warehouse.urls import WarehouseURL, parse_url


def test_duckdb_file_url():
    parsed = parse_url("duckdb:///data/w h/nba.duckdb")
    assert parsed == WarehouseURL(kind="duckdb", url="duckdb:///data/w h/nba.duckdb", path="/data/w h/nba.duckdb")


def test_duckdb_percent_encoded_path():
    assert parse_url("duckdb:///tmp/a%20b.duckdb").path == "/tmp/a b.duckdb"


def test_duckdb_memory_url():
    assert parse_url("duckdb:///:memory:").path == ":memory:"


def test_bigquery_url_with_every_option():
    parsed = parse_url(
        "bigquery://nba-props-platform?location=US&endpoint=http://127.0.0.1:9050/&dataset_prefix=test_"
    )
    assert parsed.kind == "bigquery"
    assert parsed.project == "nba-props-platform"
    assert parsed.location == "US"
    assert parsed.endpoint == "http://127.0.0.1:9050"
    assert parsed.dataset_prefix == "test_"
    assert parsed.path is None


def test_bigquery_url_defaults():
    parsed = parse_url("bigquery://test-project")
    assert (parsed.project, parsed.location, parsed.endpoint, parsed.dataset_prefix) == ("test-project", None, None, "")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "nba.duckdb",
        "sqlite:///x.db",
        "duckdb://relative/x.duckdb",
        "duckdb:///",
        "duckdb:///tmp/dir/",
        "duckdb:///x.duckdb?mode=ro",
        "bigquery://",
        "bigquery://Bad_Project",
        "bigquery://test-project/dataset",
        "bigquery://test-project?colour=red",
        "bigquery://test-project?location=US&location=EU",
        "bigquery://test-project?endpoint=ftp://x",
        "bigquery://test-project?endpoint=127.0.0.1:9050",
        "bigquery://test-project?dataset_prefix=bad-prefix",
    ],
)
def test_bad_urls_raise_config_error_naming_url_and_forms(url):
    with pytest.raises(ConfigError) as info:
        parse_url(url)
    message = str(info.value)
    assert "\n" not in message
    assert repr(url) in message
    assert "duckdb:///" in message and "bigquery://PROJECT" in message


def test_connect_rejects_bad_url_before_touching_anything():
    with pytest.raises(ConfigError):
        connect("postgres://localhost/db")


def test_connect_duckdb_memory():
    warehouse = connect("duckdb:///:memory:")
    try:
        assert warehouse.kind == "duckdb"
        assert warehouse.url == "duckdb:///:memory:"
    finally:
        warehouse.close()


def test_connect_bigquery_passes_the_parsed_settings(monkeypatch):
    import nba_backfill.warehouse.bigquery as bigquery_module

    seen = {}

    class Recorder:
        def __init__(self, **kwargs):
            seen.update(kwargs)

    monkeypatch.setattr(bigquery_module, "BigQueryWarehouse", Recorder)
    connect("bigquery://test-project?location=EU&endpoint=http://127.0.0.1:1&dataset_prefix=t_")
    assert seen == {"project": "test-project", "location": "EU", "endpoint": "http://127.0.0.1:1", "dataset_prefix": "t_"}
