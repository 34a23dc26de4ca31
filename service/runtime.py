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

from moderation.artifact import current_version, list_versions
from moderation.comment import Comment
from moderation.config import Settings
from moderation.errors import ConfigError, ModerationError, StoreError
from moderation.history import BURST_SECONDS, fingerprint
from moderation.moderator import Moderator
from moderation.policy import Policy, SitePolicy
from moderation.store import (
    CheckRecord,
    KeyInfo,
    RecentComment,
    connect,
    current_model,
    find_check,
    history_counts,
    ping,
    prune_recent,
    purge_expired,
    record_checks,
    record_recent,
    verify_key,
)
from service import telemetry
from service.errors import ApiError
from service.shadow import ShadowRecorder

__all__ = ["EXTENSION", "CheckWriter", "Runtime", "runtime"]

EXTENSION = "moderation"
log = logging.getLogger("moderation.service")

# A key checked this recently is trusted without asking the store again; a revoked key
# stops working within this many seconds.
_KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_SIZE = 1024
_STORE_RETRY_SECONDS = 2.0
_PURGE_EVERY_SECONDS = 3600.0
# Fingerprints past the history window are deleted at most this often per worker.
_PRUNE_EVERY_SECONDS = 60.0


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
        self._recent: list[RecentComment] = []
        self._next_prune = 0.0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def submit(
        self, records: list[CheckRecord], recent: list[RecentComment] | None = None
    ) -> None:
        """Queue checks and their history fingerprints for writing (or write them
        now if batching is off)."""
        if self._interval <= 0:
            self._write(records, recent or [])
            return
        with self._lock:
            self._pending.extend(records)
            self._recent.extend(recent or [])
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
                recent, self._recent = self._recent, []
            if batch or recent:
                self._write(batch, recent)

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self.flush()
            with self._lock:
                if not self._pending and not self._recent:
                    self._thread = None
                    return

    def _write(self, batch: list[CheckRecord], recent: list[RecentComment]) -> None:
        try:
            engine = self._runtime.engine
            record_checks(engine, batch)
            if recent:
                record_recent(engine, recent)
                self._prune(engine)
        except (StoreError, ApiError) as exc:
            log.warning(
                "checks not recorded: %s",
                exc,
                extra={"event": "check_not_recorded", "checks": len(batch)},
            )

    def _prune(self, engine: Engine) -> None:
        now = time.monotonic()
        if now < self._next_prune:
            return
        window = self._runtime.settings.history_window_seconds
        self._next_prune = now + min(_PRUNE_EVERY_SECONDS, window / 2)
        prune_recent(engine, window)


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
    # Site policies built per (model version, key id, settings); a key's settings are
    # re-read from the store with the key cache, so a change applies within seconds.
    _policies: dict[tuple[str, str, str], Policy] = field(default_factory=dict)
    # Token buckets of the rate limit: key id -> (tokens left, when counted).
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    checks: CheckWriter = field(init=False)
    # Hot reload: the version CURRENT named at the last look, when to look next, and
    # why the last reload failed (the old model keeps serving meanwhile).
    reload_error: str | None = None
    shadow: ShadowRecorder | None = None
    _next_reload_check: float = 0.0
    _reloading: bool = False
    _failed_version: str | None = None

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
        self.load_shadow()

    def load_shadow(self) -> None:
        """Load the shadow model named in the settings, if any; a shadow model that
        fails to load is logged and skipped (it never affects live verdicts)."""
        s = self.settings
        self.shadow = None
        if not s.shadow_model:
            return
        try:
            candidate = Moderator.load(
                s.models_path,
                s.shadow_model,
                thresholds=s.threshold_overrides(),
                allow_discard=s.allow_discard,
            )
        except ModerationError as exc:
            log.error(
                "shadow model not loaded: %s", exc, extra={"event": "shadow_error"}
            )
            return
        self.shadow = ShadowRecorder(self, candidate)

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

    def maybe_reload(self) -> None:
        """Pick up a newly promoted model, without blocking or failing a request.

        Every ``reload_seconds`` a background thread looks at the store's registry and
        ``CURRENT`` (the request only starts it: no I/O on the request path); when
        they name another version, it loads and verifies it (checksum, scikit-learn
        version) and then swaps it in with one assignment, so requests in flight
        finish on the model they started with. A version that fails to load is
        refused, logged and reported by ``/readyz``; the old model keeps serving.
        """
        interval = self.settings.reload_seconds
        now = time.monotonic()
        if interval <= 0 or now < self._next_reload_check or self._reloading:
            return
        with self._lock:
            if self._reloading:
                return
            self._reloading = True
            self._next_reload_check = now + interval
        threading.Thread(target=self._reload, name="model-reload", daemon=True).start()

    def _wanted_version(self) -> str | None:
        # The store's registry, when it names a version this instance has, is what
        # every instance agrees on; otherwise the models directory's CURRENT.
        local = current_version(self.settings.models_path)
        try:
            registered = current_model(self.engine)
        except (StoreError, ApiError):
            return local
        if registered and registered in list_versions(self.settings.models_path):
            return registered
        return local

    def _reload(self) -> None:
        s = self.settings
        try:
            version = self._wanted_version()
            loaded = self.moderator.version if self.moderator is not None else None
            if version is None or version in (loaded, self._failed_version):
                return
            fresh = Moderator.load(
                s.models_path,
                version,
                thresholds=s.threshold_overrides(),
                allow_discard=s.allow_discard,
            )
        except ModerationError as exc:
            self._failed_version = version
            self.reload_error = f"model {version} refused: {exc}"
            log.error(self.reload_error, extra={"event": "model_reload_error"})
        else:
            previous = self.moderator.version if self.moderator else None
            self.moderator = fresh
            self.model_error = self.reload_error = self._failed_version = None
            telemetry.set_model(fresh.version, previous)
            log.info(
                "model %s now serving (was %s)",
                fresh.version,
                previous,
                extra={"event": "model_reloaded"},
            )
        finally:
            self._reloading = False

    def require_moderator(self) -> Moderator:
        """The loaded Moderator (after a cheap look for a newly promoted one).

        Raises:
            ApiError: 503 when no model is loaded.
        """
        self.maybe_reload()
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

    def policy_for(self, key: KeyInfo | None) -> Policy | None:
        """The policy for a key's site (``None``: the service's own).

        A policy the model cannot serve (``moderation keys policy`` checks, but the
        model may change) is logged and replaced by the service's policy.
        """
        moderator = self.moderator
        if key is None or not key.policy or moderator is None:
            return None
        cache_key = (moderator.version, key.id, repr(sorted(key.policy.items())))
        found = self._policies.get(cache_key)
        if found is not None:
            return found
        try:
            policy = moderator.policy_for(SitePolicy.from_dict(key.policy))
        except (ConfigError, TypeError, ValueError) as exc:
            log.warning(
                "site policy not used: %s",
                exc,
                extra={"event": "site_policy_error", "key_id": key.id},
            )
            policy = moderator.policy
        if len(self._policies) >= _KEY_CACHE_SIZE:
            self._policies.clear()
        self._policies[cache_key] = policy
        return policy

    def history(
        self, comment: Comment, key: KeyInfo | None
    ) -> tuple[dict[str, int] | None, RecentComment | None]:
        """The comment's recent-history counts, and its fingerprint to record.

        Returns ``(None, None)`` when history is off or there is no key, and
        ``(None, fingerprint)`` when the store cannot answer: the comment is then
        scored without history rather than refused.
        """
        window = self.settings.history_window_seconds
        if window <= 0 or key is None:
            return None, None
        recent = fingerprint(comment, key.id)
        try:
            counts = history_counts(self.engine, recent, window, BURST_SECONDS)
        except (StoreError, ApiError) as exc:
            log.warning("history not read: %s", exc, extra={"event": "history_error"})
            return None, recent
        return counts, recent

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
