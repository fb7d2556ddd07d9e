"""Parse warehouse URLs: `duckdb:///ABS/PATH.duckdb`, `duckdb:///:memory:`, `bigquery://PROJECT[?...]`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from nba_backfill.errors import ConfigError

ACCEPTED_FORMS = (
    "duckdb:///ABSOLUTE/PATH.duckdb, duckdb:///:memory:, "
    "bigquery://PROJECT[?location=LOC&endpoint=http://HOST:PORT&dataset_prefix=PREFIX]"
)
MEMORY = ":memory:"

_PROJECT = re.compile(r"^(?:[a-z0-9][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_LOCATION = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
_PREFIX = re.compile(r"^[A-Za-z0-9_]*$")
_BIGQUERY_KEYS = ("location", "endpoint", "dataset_prefix")


@dataclass(frozen=True)
class WarehouseURL:
    """A parsed warehouse URL; `kind` is "duckdb" or "bigquery"."""

    kind: str
    url: str
    #: DuckDB: absolute file path or ":memory:".
    path: str | None = None
    #: BigQuery: project id, and the optional settings of the query string.
    project: str | None = None
    location: str | None = None
    endpoint: str | None = None
    dataset_prefix: str = ""


def _bad(url: str, why: str) -> ConfigError:
    return ConfigError(f"invalid warehouse URL {url!r} ({why}); accepted forms: {ACCEPTED_FORMS}")


def parse_url(url: str) -> WarehouseURL:
    """Parse a warehouse URL.

    Raises:
        ConfigError: an unknown scheme or a malformed URL (the message names the URL and
            the accepted forms).
    """
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise _bad(url, "no scheme")
    scheme = scheme.lower()
    if scheme == "duckdb":
        return _parse_duckdb(url, rest)
    if scheme == "bigquery":
        return _parse_bigquery(url, text)
    raise _bad(url, f"unknown scheme {scheme!r}")


def _parse_duckdb(url: str, rest: str) -> WarehouseURL:
    if "?" in rest or "#" in rest:
        raise _bad(url, "DuckDB URLs take no options")
    if not rest.startswith("/"):
        raise _bad(url, "the DuckDB path must be absolute: duckdb:///path")
    path = unquote(rest)
    if path == "/" + MEMORY:
        return WarehouseURL(kind="duckdb", url=url, path=MEMORY)
    if path.rstrip("/") == "" or path.endswith("/"):
        raise _bad(url, "no database file")
    return WarehouseURL(kind="duckdb", url=url, path=path)


def _parse_bigquery(url: str, text: str) -> WarehouseURL:
    try:
        parts = urlsplit(text)
        query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise _bad(url, str(exc)) from exc
    project = parts.netloc
    if not _PROJECT.match(project):
        raise _bad(url, f"{project!r} is not a BigQuery project id")
    if parts.path not in ("", "/") or parts.fragment:
        raise _bad(url, "nothing may follow the project but ?options")
    options: dict[str, str] = {}
    for key, value in query:
        if key not in _BIGQUERY_KEYS:
            raise _bad(url, f"unknown option {key!r}")
        if key in options:
            raise _bad(url, f"option {key!r} given twice")
        options[key] = value
    location = options.get("location") or None
    if location is not None and not _LOCATION.match(location):
        raise _bad(url, f"bad location {location!r}")
    endpoint = options.get("endpoint") or None
    if endpoint is not None:
        ep = urlsplit(endpoint)
        if ep.scheme not in ("http", "https") or not ep.netloc or ep.path not in ("", "/") or ep.query:
            raise _bad(url, f"bad endpoint {endpoint!r} (want http://HOST:PORT)")
        endpoint = endpoint.rstrip("/")
    prefix = options.get("dataset_prefix", "")
    if not _PREFIX.match(prefix):
        raise _bad(url, f"bad dataset_prefix {prefix!r} (letters, digits, underscores)")
    return WarehouseURL(
        kind="bigquery", url=url, project=project, location=location, endpoint=endpoint, dataset_prefix=prefix
    )
