"""``moderation serve``: the service on gunicorn, configured from ``Settings``.

The app is built once in the master process (``preload_app``), so the model is loaded
and verified before any worker starts and a broken model or unreachable store stops
the command with one clear message; workers are forked with the model already in
memory and drop the master's database connections. Workers are threaded (``gthread``):
requests wait on the store more than on the CPU. SIGTERM stops gracefully: workers
finish their requests within ``graceful_timeout``. This module does not train models;
the CLI makes sure one exists first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from moderation.config import Settings
from moderation.errors import ModerationError
from service import create_app
from service.runtime import EXTENSION

__all__ = ["gunicorn_options", "serve"]

log = logging.getLogger("moderation.service")


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for the service (also used by the HTTP benchmark)."""
    shm = Path("/dev/shm")
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "threads": settings.threads,
        "worker_class": "gthread",
        "timeout": settings.timeout,
        "graceful_timeout": 20,
        "keepalive": 5,
        "preload_app": True,
        "accesslog": None,  # the app logs one JSON line per request itself
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "moderation",
        "worker_tmp_dir": str(shm) if shm.is_dir() else None,
        "limit_request_line": 8190,
        "forwarded_allow_ips": "127.0.0.1",
        # gunicorn >= 25.1 opens a control socket at one fixed path per user; two
        # services (or a test beside a running one) would fight over it.
        "control_socket_disable": True,
    }


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if value is not None and name in self.cfg.settings:
                self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.application


def _post_fork(server: Any, worker: Any) -> None:
    # Each worker opens its own database connections.
    app = server.app.application
    app.extensions[EXTENSION].after_fork()


def _worker_exit(server: Any, worker: Any) -> None:
    # Write the checks still queued before the worker goes.
    server.app.application.extensions[EXTENSION].checks.flush()


def _child_exit(server: Any, worker: Any) -> None:
    metrics_dir = server.app.application.extensions[EXTENSION].settings.metrics_dir
    if metrics_dir is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, str(metrics_dir))


def build(settings: Settings, app: Flask | None = None) -> _Server:
    """The gunicorn application for ``settings`` (and ``app``, default: the service).

    Raises:
        ModerationError: the model is not loaded or the store does not answer.
    """
    if app is None:
        app = create_app(settings)
        runtime = app.extensions[EXTENSION]
        if runtime.model_error:
            raise ModerationError(runtime.model_error)
        if runtime.store_error:
            raise ModerationError(runtime.store_error)
    options = gunicorn_options(settings)
    options["post_fork"] = _post_fork
    options["child_exit"] = _child_exit
    options["worker_exit"] = _worker_exit
    return _Server(app, options)


def serve(settings: Settings) -> None:
    """Run the service until SIGTERM or SIGINT.

    Raises:
        ModerationError: the model is not loaded or the store does not answer.
    """
    server = build(settings)
    log.info(
        "starting",
        extra={
            "event": "start",
            "bind": f"{settings.host}:{settings.port}",
            "workers": settings.workers,
            "threads": settings.threads,
        },
    )
    server.run()
