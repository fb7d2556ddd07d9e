"""A local fake of the BigQuery REST API, executing on DuckDB, for the real google-cloud-bigquery client.

Point a client at it with `AnonymousCredentials()` and
`client_options={"api_endpoint": server.url}`. It serves what the client sends for datasets,
tables, query and load jobs (multipart and resumable uploads of parquet) and query results,
and can inject HTTP or job-level failures so retry paths are testable.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from fake_bigquery_engine import Engine, JobFailure, decode_params, encode_rows

_STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
PAGE_ROWS = 10_000


@dataclass
class Fault:
    """An injected failure: `remaining` requests (None = forever) matching `method`/`path_contains`."""

    status: int
    reason: str
    message: str
    remaining: int | None
    method: str | None = None
    path_contains: str | None = None
    job_level: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any = None


@dataclass
class _Job:
    resource: dict[str, Any]
    fields: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    error: JobFailure | None = None


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


class FakeBigQuery:
    """The fake endpoint; `start()` serves it on a background thread at `.url`."""

    def __init__(self) -> None:
        self.engine = Engine()
        self.datasets: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, _Job] = {}
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._uploads: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle
    def start(self) -> FakeBigQuery:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-bigquery", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.engine.con.close()

    # -- fault injection
    def fail_next(self, n: int = 1, status: int = 503, reason: str = "backendError", message: str = "Backend error",
                  method: str | None = None, path_contains: str | None = None) -> None:
        """Answer the next `n` matching HTTP requests with an error response."""
        with self._lock:
            self.faults.append(Fault(status, reason, message, n, method, path_contains))

    def fail_jobs(self, n: int = 1, status: int = 400, reason: str = "invalidQuery",
                  message: str = "Could not serialize access to table due to concurrent update") -> None:
        """Let the next `n` inserted jobs finish DONE with this errorResult, without running them."""
        with self._lock:
            self.faults.append(Fault(status, reason, message, n, job_level=True))

    def fail_always(self, status: int = 403, reason: str = "accessDenied", message: str = "Access Denied",
                    method: str | None = None, path_contains: str | None = None) -> None:
        """Permanent mode: every matching request fails until `clear_faults()`."""
        with self._lock:
            self.faults.append(Fault(status, reason, message, None, method, path_contains))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, method: str, path: str, job_level: bool) -> Fault | None:
        for fault in self.faults:
            if fault.job_level == job_level and (job_level or fault.matches(method, path)):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    # -- helpers for tests
    def sql(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Run DuckDB SQL directly on the fake's database (test setup and assertions)."""
        with self._lock:
            return self.engine.con.execute(sql, params or []).fetchall()

    def table_resource(self, dataset: str, table: str) -> dict[str, Any]:
        with self._lock:
            return self.engine.tables[(dataset, table)]

    def job_configs(self, kind: str) -> list[dict[str, Any]]:
        """Configurations (`query` or `load`) of the jobs inserted so far, in order."""
        with self._lock:
            return [j.resource["configuration"][kind] for j in self.jobs.values() if kind in j.resource["configuration"]]

    # -- request dispatch
    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], Any]:
        parsed = urlparse(raw_path)
        query = parse_qs(parsed.query)
        path = parsed.path
        with self._lock:
            self.requests.append(RecordedRequest(method, path, query, _json_or_none(body)))
            fault = self._take_fault(method, path, job_level=False)
            if fault is not None:
                return _error(fault.status, fault.reason, fault.message)
            try:
                return self._route(method, path, query, headers, body)
            except ApiError as exc:
                return _error(exc.status, exc.reason, exc.message)

    def _route(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes):
        if path.startswith("/upload/bigquery/v2/projects/"):
            return self._upload(method, path, query, headers, body)
        m = re.fullmatch(r"/bigquery/v2/projects/([^/]+)(/.*)?", path)
        if not m:
            raise ApiError(404, "notFound", f"Not found: URL {path}")
        project, rest = m.group(1), m.group(2) or ""
        data = _json_or_none(body)
        if rest == "/datasets" and method == "POST":
            return 200, {}, self._insert_dataset(project, data)
        if m2 := re.fullmatch(r"/datasets/([^/]+)", rest):
            return self._dataset(method, project, m2.group(1))
        if m2 := re.fullmatch(r"/datasets/([^/]+)/tables", rest):
            if method == "POST":
                return 200, {}, self._insert_table(project, m2.group(1), data)
            return 200, {}, self._list_tables(project, m2.group(1))
        if m2 := re.fullmatch(r"/datasets/([^/]+)/tables/([^/]+)", rest):
            return self._table(method, project, m2.group(1), m2.group(2))
        if rest == "/jobs" and method == "POST":
            return 200, {}, self._insert_job(project, data)
        if m2 := re.fullmatch(r"/jobs/([^/]+)", rest):
            return 200, {}, self._job(m2.group(1)).resource
        if m2 := re.fullmatch(r"/queries/([^/]+)", rest):
            return self._query_results(m2.group(1), query)
        if rest == "/queries" and method == "POST":
            return self._jobs_query(project, data)
        raise ApiError(404, "notFound", f"Not found: {method} {path}")

    # -- datasets and tables
    def _dataset_resource(self, project: str, dataset: str, location: str | None) -> dict[str, Any]:
        return {"kind": "bigquery#dataset", "id": f"{project}:{dataset}", "location": location or "US",
                "datasetReference": {"projectId": project, "datasetId": dataset}}

    def _insert_dataset(self, project: str, data: dict[str, Any]) -> dict[str, Any]:
        dataset = data["datasetReference"]["datasetId"]
        if dataset in self.datasets:
            raise ApiError(409, "duplicate", f"Already Exists: Dataset {project}:{dataset}")
        resource = self._dataset_resource(project, dataset, data.get("location"))
        self.datasets[dataset] = resource
        self.engine.create_schema(dataset)
        return resource

    def _dataset(self, method: str, project: str, dataset: str):
        if dataset not in self.datasets:
            raise ApiError(404, "notFound", f"Not found: Dataset {project}:{dataset}")
        if method == "DELETE":
            self.datasets.pop(dataset)
            self.engine.con.execute(f'DROP SCHEMA IF EXISTS "{dataset}" CASCADE')
            self.engine.tables = {k: v for k, v in self.engine.tables.items() if k[0] != dataset}
            return 204, {}, None
        return 200, {}, self.datasets[dataset]

    def _table_resource(self, project: str, dataset: str, table: str) -> dict[str, Any]:
        if dataset not in self.datasets:
            raise ApiError(404, "notFound", f"Not found: Dataset {project}:{dataset}")
        stored = self.engine.tables.get((dataset, table))
        if stored is not None:
            return stored
        found = self.engine.catalog_fields(dataset, table)
        if found is None:
            raise ApiError(404, "notFound", f"Not found: Table {project}:{dataset}.{table}")
        kind, fields = found
        return {"kind": "bigquery#table", "id": f"{project}:{dataset}.{table}", "type": kind,
                "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
                "schema": {"fields": fields}}

    def _insert_table(self, project: str, dataset: str, data: dict[str, Any]) -> dict[str, Any]:
        table = data["tableReference"]["tableId"]
        if dataset not in self.datasets:
            raise ApiError(404, "notFound", f"Not found: Dataset {project}:{dataset}")
        if (dataset, table) in self.engine.tables or self.engine.catalog_fields(dataset, table) is not None:
            raise ApiError(409, "duplicate", f"Already Exists: Table {project}:{dataset}.{table}")
        resource = copy.deepcopy(data)
        now = str(int(time.time() * 1000))
        resource.update({"kind": "bigquery#table", "id": f"{project}:{dataset}.{table}", "creationTime": now,
                         "lastModifiedTime": now, "type": "VIEW" if "view" in data else "TABLE",
                         "location": self.datasets[dataset].get("location", "US")})
        resource.setdefault("schema", {"fields": []})
        try:
            self.engine.create_table(dataset, table, resource)
        except Exception as exc:  # a bad schema or view query: invalid, like BigQuery says
            raise ApiError(400, "invalid", str(exc)) from exc
        if "view" in data:  # BigQuery derives a view's schema from its query
            resource["schema"] = {"fields": self.engine.catalog_fields(dataset, table)[1]}
        return resource

    def _list_tables(self, project: str, dataset: str) -> dict[str, Any]:
        names = [k[1] for k in self.engine.tables if k[0] == dataset]
        return {"kind": "bigquery#tableList", "totalItems": len(names), "tables": [
            {"tableReference": {"projectId": project, "datasetId": dataset, "tableId": n}} for n in sorted(names)]}

    def _table(self, method: str, project: str, dataset: str, table: str):
        resource = self._table_resource(project, dataset, table)
        if method == "DELETE":
            self.engine.drop_table(dataset, table)
            return 204, {}, None
        return 200, {}, resource

    # -- jobs
    def _new_job(self, project: str, data: dict[str, Any]) -> _Job:
        ref = dict(data.get("jobReference") or {})
        ref.setdefault("projectId", project)
        ref.setdefault("jobId", f"job_{uuid.uuid4().hex[:12]}")
        ref.setdefault("location", "US")
        if ref["jobId"] in self.jobs:
            raise ApiError(409, "duplicate", f"Already Exists: Job {project}:{ref['location']}.{ref['jobId']}")
        now = str(int(time.time() * 1000))
        resource = {"kind": "bigquery#job", "id": f"{project}:{ref['location']}.{ref['jobId']}", "jobReference": ref,
                    "configuration": data.get("configuration") or {}, "status": {"state": "DONE"},
                    "statistics": {"creationTime": now, "startTime": now, "endTime": now}}
        job = _Job(resource)
        self.jobs[ref["jobId"]] = job
        return job

    def _finish(self, job: _Job, run) -> dict[str, Any]:
        fault = self._take_fault("", "", job_level=True)
        try:
            if fault is not None:
                raise JobFailure(fault.status, fault.reason, fault.message)
            run(job)
        except JobFailure as exc:
            job.error = exc
            err = {"reason": exc.reason, "message": exc.message}
            job.resource["status"] = {"state": "DONE", "errorResult": err, "errors": [err]}
        return job.resource

    def _insert_job(self, project: str, data: dict[str, Any]) -> dict[str, Any]:
        job = self._new_job(project, data)
        config = job.resource["configuration"]
        if "query" not in config:
            raise ApiError(400, "invalid", "only query jobs can be inserted without an upload")
        if config.get("dryRun"):
            return self._dry_run(job)
        return self._finish(job, self._run_query)

    def _dry_run(self, job: _Job) -> dict[str, Any]:
        """A query dry run: validated (here: run, inside a rolled-back transaction), nothing kept.

        BigQuery reports the bytes of the columns and partitions it would scan; the fake reports
        8 bytes per result cell, a stand-in that is non-zero and grows with the range. Errors of a
        dry run come back on the insert call itself, as BigQuery does.
        """
        self.jobs.pop(job.resource["jobReference"]["jobId"], None)
        cfg = job.resource["configuration"]["query"]
        self.engine.con.begin()
        try:
            result = self.engine.run_script(cfg["query"], decode_params(cfg.get("queryParameters")))
        except JobFailure as exc:
            raise ApiError(exc.status, exc.reason, exc.message) from exc
        finally:
            self.engine.con.rollback()
        size = 8 * len(result.rows) * max(1, len(result.fields))
        job.resource["statistics"]["query"] = {"statementType": result.statement_type,
                                               "totalBytesProcessed": str(size)}
        job.resource["statistics"]["totalBytesProcessed"] = str(size)
        return job.resource

    def _run_query(self, job: _Job) -> None:
        cfg = job.resource["configuration"]["query"]
        if cfg.get("useLegacySql"):
            raise JobFailure(400, "invalidQuery", "legacy SQL is not supported by the fake")
        result = self.engine.run_script(cfg["query"], decode_params(cfg.get("queryParameters")))
        job.fields, job.rows = result.fields, result.rows
        stats = {"statementType": result.statement_type, "totalBytesProcessed": "0"}
        if result.affected is not None:
            stats["numDmlAffectedRows"] = str(result.affected)
        job.resource["statistics"]["query"] = stats

    def _job(self, job_id: str) -> _Job:
        if job_id not in self.jobs:
            raise ApiError(404, "notFound", f"Not found: Job {job_id}")
        return self.jobs[job_id]

    def _results_page(self, job: _Job, start: int, max_results: int | None, int64_ts: bool) -> dict[str, Any]:
        ref = job.resource["jobReference"]
        limit = PAGE_ROWS if max_results is None else min(max_results, PAGE_ROWS)
        page = job.rows[start : start + limit]
        out: dict[str, Any] = {"kind": "bigquery#getQueryResultsResponse", "jobReference": ref, "jobComplete": True,
                               "schema": {"fields": job.fields}, "totalRows": str(len(job.rows)),
                               "cacheHit": False}
        if page:  # BigQuery omits `rows` on an empty page; the client then fetches the rows itself
            out["rows"] = encode_rows(job.fields, page, int64_ts)
        if start + len(page) < len(job.rows) and limit > 0:
            out["pageToken"] = str(start + len(page))
        affected = job.resource["statistics"].get("query", {}).get("numDmlAffectedRows")
        if affected is not None:
            out["numDmlAffectedRows"] = affected
        return out

    def _query_results(self, job_id: str, query: dict[str, list[str]]):
        job = self._job(job_id)
        if job.error is not None:
            raise ApiError(job.error.status, job.error.reason, job.error.message)
        start = int((query.get("pageToken") or query.get("startIndex") or ["0"])[0])
        max_results = int(query["maxResults"][0]) if "maxResults" in query else None
        int64_ts = (query.get("formatOptions.useInt64Timestamp") or ["false"])[0].lower() == "true"
        return 200, {}, self._results_page(job, start, max_results, int64_ts)

    def _jobs_query(self, project: str, data: dict[str, Any]):
        cfg = {k: v for k, v in data.items() if k not in ("formatOptions", "maxResults", "timeoutMs", "location", "kind",
                                                          "requestId", "jobCreationMode")}
        job = self._new_job(project, {"configuration": {"query": cfg}, "jobReference": {"location": data.get("location")
                                                                                       or "US"}})
        self._finish(job, self._run_query)
        if job.error is not None:
            raise ApiError(job.error.status, job.error.reason, job.error.message)
        int64_ts = bool((data.get("formatOptions") or {}).get("useInt64Timestamp"))
        return 200, {}, self._results_page(job, 0, data.get("maxResults"), int64_ts)

    # -- load jobs
    def _upload(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes):
        project = path.split("/")[5]
        upload_type = (query.get("uploadType") or [""])[0]
        if upload_type == "multipart":
            metadata, data = _split_multipart(headers.get("Content-Type", ""), body)
            return 200, {}, self._load(project, metadata, data)
        if upload_type == "resumable" and method == "POST":
            upload_id = uuid.uuid4().hex
            self._uploads[upload_id] = {"metadata": json.loads(body or b"{}"), "data": bytearray()}
            location = f"{self.url}/upload/bigquery/v2/projects/{project}/jobs?uploadType=resumable&upload_id={upload_id}"
            return 200, {"Location": location}, {}
        if upload_type == "resumable" and method == "PUT":
            upload_id = query["upload_id"][0]
            state = self._uploads[upload_id]
            state["data"] += body
            total = (headers.get("Content-Range") or "").rsplit("/", 1)[-1]
            if total != "*" and len(state["data"]) >= int(total):
                del self._uploads[upload_id]
                return 200, {}, self._load(project, state["metadata"], bytes(state["data"]))
            return 308, {"Range": f"bytes=0-{len(state['data']) - 1}"}, None
        raise ApiError(400, "invalid", f"unsupported upload {method} {path}")

    def _load(self, project: str, metadata: dict[str, Any], data: bytes) -> dict[str, Any]:
        job = self._new_job(project, metadata)

        def run(job: _Job) -> None:
            cfg = job.resource["configuration"]["load"]
            if (cfg.get("sourceFormat") or "CSV") != "PARQUET":
                raise JobFailure(400, "invalid", "the fake loads PARQUET only")
            dest = cfg["destinationTable"]
            if dest["datasetId"] not in self.datasets:
                raise JobFailure(404, "notFound", f"Not found: Dataset {project}:{dest['datasetId']}")
            n = self.engine.load_parquet(dest["datasetId"], dest["tableId"], data, cfg)
            job.resource["statistics"]["load"] = {"outputRows": str(n), "inputFiles": "1"}

        return self._finish(job, run)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBigQuery
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.fake.handle(self.command, self.path, self.headers, body)
        raw = b"" if payload is None else json.dumps(payload, default=_json_default).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if raw:
            self.wfile.write(raw)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence request logging
        pass


def _error(status: int, reason: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {}, {"error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN"),
                                  "errors": [{"reason": reason, "message": message, "domain": "global"}]}}


def _json_or_none(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _split_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    """(JSON metadata, payload bytes) of a multipart/related upload body."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise ApiError(400, "invalid", "multipart upload without boundary")
    delimiter = b"--" + m.group(1).encode()
    parts = [p for p in body.split(delimiter) if p.strip() not in (b"", b"--")]
    decoded = []
    for part in parts[:2]:
        head, _, payload = part.partition(b"\r\n\r\n")
        decoded.append(payload[:-2] if payload.endswith(b"\r\n") else payload)
    return json.loads(decoded[0]), decoded[1]
