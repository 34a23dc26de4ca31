"""What one worker process holds: settings, the loaded Moderator and the store's engine.

``create_app`` builds one ``Runtime`` and keeps it in ``app.extensions["moderation"]``;
``runtime()`` finds it from a request. The model is loaded (and verified) once; the
store is opened once and reopened on demand if it was down at start. A worker forked
from a preloading master calls ``after_fork`` so that no database connection is shared
between processes. Nothing here knows about routes.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Engine

from moderation.config import Settings
from moderation.errors import ModerationError, StoreError
from moderation.moderator import Moderator
from moderation.store import (
    CheckRecord,
    KeyInfo,
    connect,
    find_check,
    ping,
    purge_expired,
    record_checks,
    verify_key,
)
from service.errors import ApiError

__all__ = ["EXTENSION", "CheckWriter", "Runtime", "runtime"]

EXTENSION = "moderation"
log = logging.getLogger("moderation.service")

# A key checked this recently is trusted without asking the store again; a revoked key
# stops working within this many seconds.
_KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_SIZE = 1024
_STORE_RETRY_SECONDS = 2.0
_PURGE_EVERY_SECONDS = 3600.0


class CheckWriter:
    """Stores checks off the request path: batched, from one background thread.

    A scored comment's check waits at most ``interval`` seconds before it is written
    with the others of that moment, in one transaction; this keeps the database out of
    the scoring latency. The thread runs only while there is something to write and
    is restarted after a fork. With ``interval`` 0, checks are written at once.
    ``flush`` writes what is pending now (before feedback looks a check up, and when
    a worker exits); a ``kill -9`` loses at most ``interval`` of checks, never
    feedback, which is written synchronously.
    """

    def __init__(self, runtime: Runtime, interval: float) -> None:
        self._runtime = runtime
        self._interval = interval
        self._pending: list[CheckRecord] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def submit(self, records: list[CheckRecord]) -> None:
        """Queue checks for writing (or write them now if batching is off)."""
        if self._interval <= 0:
            self._write(records)
            return
        with self._lock:
            self._pending.extend(records)
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="check-writer", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        """Write every pending check now."""
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._write(batch)

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self.flush()
            with self._lock:
                if not self._pending:
                    self._thread = None
                    return

    def _write(self, batch: list[CheckRecord]) -> None:
        try:
            record_checks(self._runtime.engine, batch)
        except (StoreError, ApiError) as exc:
            log.warning(
                "checks not recorded: %s",
                exc,
                extra={"event": "check_not_recorded", "checks": len(batch)},
            )


@dataclass
class Runtime:
    """One worker's model and store."""

    settings: Settings
    moderator: Moderator | None = None
    model_error: str | None = None
    store_error: str | None = None
    _engine: Engine | None = None
    _next_store_attempt: float = 0.0
    _next_purge: float = 0.0
    _keys: dict[str, tuple[float, KeyInfo]] = field(default_factory=dict)
    # Token buckets of the rate limit: key id -> (tokens left, when counted).
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    checks: CheckWriter = field(init=False)

    def __post_init__(self) -> None:
        self.checks = CheckWriter(self, self.settings.check_flush_ms / 1000)
        atexit.register(self.checks.flush)

    def load_model(self) -> None:
        """Load and verify the current model; on failure remember why (readyz says)."""
        s = self.settings
        try:
            self.moderator = Moderator.load(
                s.models_path,
                thresholds=s.threshold_overrides(),
                allow_discard=s.allow_discard,
            )
            self.model_error = None
        except ModerationError as exc:
            self.moderator = None
            self.model_error = str(exc)
            log.error("model not loaded: %s", exc, extra={"event": "model_error"})

    def open_store(self) -> None:
        """Open the store (creating its schema); on failure remember why."""
        try:
            self._engine = connect(self.settings.database)
            self.store_error = None
        except StoreError as exc:
            self._engine = None
            self.store_error = str(exc)
            self._next_store_attempt = time.monotonic() + _STORE_RETRY_SECONDS
            log.error("store not available: %s", exc, extra={"event": "store_error"})

    def after_fork(self) -> None:
        """Drop connections inherited from the parent (gunicorn ``post_fork``)."""
        if self._engine is not None:
            self._engine.dispose(close=False)
        self._keys.clear()

    @property
    def engine(self) -> Engine:
        """The store's engine, reopening it if it was down.

        Raises:
            ApiError: 503 while the store cannot be opened.
        """
        if self._engine is None:
            with self._lock:
                if (
                    self._engine is None
                    and time.monotonic() >= self._next_store_attempt
                ):
                    self.open_store()
        if self._engine is None:
            raise ApiError(503, "store_unavailable", _STORE_DOWN)
        self._maybe_purge(self._engine)
        return self._engine

    def take(self, key_id: str) -> float:
        """Spend one request of a key's rate limit.

        Returns:
            0 when the request may go ahead, else the seconds until it may.
        """
        limit = self.settings.rate_limit
        if limit <= 0:
            return 0.0
        now = time.monotonic()
        per_second = limit / 60
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(limit), now))
            tokens = min(float(limit), tokens + (now - last) * per_second)
            if tokens < 1:
                self._buckets[key_id] = (tokens, now)
                return (1 - tokens) / per_second
            self._buckets[key_id] = (tokens - 1, now)
        return 0.0

    def find_check(self, check_id: str) -> CheckRecord | None:
        """A stored check, including one still queued here or in another worker."""
        self.checks.flush()
        found = find_check(self.engine, check_id)
        if found is None and self.settings.check_flush_ms > 0:
            # Another worker may hold it for up to one interval: look again after it.
            time.sleep(2 * self.settings.check_flush_ms / 1000 + 0.02)
            found = find_check(self.engine, check_id)
        return found

    def require_moderator(self) -> Moderator:
        """The loaded Moderator.

        Raises:
            ApiError: 503 when no model is loaded.
        """
        if self.moderator is None:
            raise ApiError(503, "model_not_loaded", _NO_MODEL)
        return self.moderator

    def verify(self, key: str) -> KeyInfo | None:
        """Check a key against the store, trusting a recent answer for a few seconds."""
        now = time.monotonic()
        cached = self._keys.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        info = verify_key(self.engine, key)
        if info is not None:
            if len(self._keys) >= _KEY_CACHE_SIZE:
                self._keys.clear()
            self._keys[key] = (now + _KEY_CACHE_SECONDS, info)
        return info

    def problems(self) -> list[tuple[str, str]]:
        """Why the worker is not ready, as (code, message); empty when ready."""
        found = []
        if self.moderator is None:
            found.append(("model_not_loaded", _NO_MODEL))
        try:
            ping(self.engine)
        except (ApiError, StoreError):
            found.append(("store_unavailable", _STORE_DOWN))
        return found

    def _maybe_purge(self, engine: Engine) -> None:
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + _PURGE_EVERY_SECONDS
        try:
            purged = purge_expired(engine, self.settings.retention_days)
        except StoreError as exc:
            log.warning("purge failed: %s", exc, extra={"event": "purge_error"})
            return
        if purged:
            log.info(
                "purged expired comment text",
                extra={"event": "purge", "checks": purged},
            )


_NO_MODEL = (
    "No model is loaded; the server log says why. Train one with 'moderation train' "
    "or start the service with 'moderation serve', which builds the default model."
)
_STORE_DOWN = (
    "The store does not answer; the server log says why. Check MODERATION_DATABASE_URL "
    "and that the database is up, then retry."
)


def runtime() -> Runtime:
    """The current application's ``Runtime``."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
