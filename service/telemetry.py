"""Request logs and Prometheus metrics.

One JSON log line per request (route, status, latency, verdict, model version, key id;
never the key, the Host header or the comment text, unless ``log_content`` is set) and
the metrics behind ``GET /metrics``: request counts and latencies by route, method and
status, verdict counts, and the loaded model's version.

Under ``moderation serve`` each worker writes its metrics to files in a shared
directory (prometheus_client's multi-process mode, chosen by
``PROMETHEUS_MULTIPROC_DIR`` before this module is imported) and ``/metrics`` adds
them up; otherwise the metrics live in the process. This module does not route or
validate requests.
"""

from __future__ import annotations

import collections
import json
import logging
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = [
    "JsonFormatter",
    "configure_logging",
    "install",
    "metrics_response",
    "note_verdicts",
    "set_model",
]

log = logging.getLogger("moderation.service")

REQUESTS = Counter(
    "moderation_http_requests_total",
    "HTTP requests by route, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "moderation_http_request_duration_seconds",
    "HTTP request latency by route, method and status.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
VERDICTS = Counter(
    "moderation_verdicts_total",
    "Verdicts given, by verdict and surface (v1 or akismet).",
    ["verdict", "surface"],
)
MODEL = Gauge(
    "moderation_model_info",
    "The loaded model version (value 1).",
    ["version"],
    multiprocess_mode="max",
)

# Attributes of a log record that are not ours to print.
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _RESERVED and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the service's logs to stderr as JSON lines (once per process)."""
    if any(getattr(h, "_moderation", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._moderation = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False


def set_model(version: str | None, previous: str | None = None) -> None:
    """Publish the loaded model's version (and retire the one it replaced)."""
    if previous is not None and previous != version:
        MODEL.labels(version=previous).set(0)
    if version is not None:
        MODEL.labels(version=version).set(1)


def note_verdicts(verdicts: list[str], surface: str) -> None:
    """Count verdicts and remember them for this request's log line."""
    for verdict in verdicts:
        VERDICTS.labels(verdict=verdict, surface=surface).inc()
    g.verdicts = verdicts


def metrics_response(metrics_dir: Path | None) -> Response:
    """The Prometheus text exposition of every worker's metrics."""
    if metrics_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)


def install(app: Flask, log_content: bool) -> None:
    """Time, count and log every request of ``app``."""

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("started")
        elapsed = time.perf_counter() - started if started is not None else 0.0
        rule = request.url_rule
        route = rule.rule if rule is not None else "<unmatched>"
        status = str(response.status_code)
        REQUESTS.labels(route=route, method=request.method, status=status).inc()
        LATENCY.labels(route=route, method=request.method, status=status).observe(
            elapsed
        )
        fields: dict[str, Any] = {
            "event": "request",
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "latency_ms": round(elapsed * 1000, 3),
        }
        verdicts = g.get("verdicts")
        if verdicts and len(verdicts) == 1:
            fields["verdict"] = verdicts[0]
        elif verdicts:
            fields["verdicts"] = dict(collections.Counter(verdicts))
        for name in ("model", "key_id", "check_id", "error_code"):
            value = g.get(name)
            if value is not None:
                fields[name] = value
        if log_content and g.get("content") is not None:
            fields["content"] = g.content
        log.info("request", extra=fields)
        return response
