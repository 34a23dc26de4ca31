"""Shadow mode: a candidate model scores every live comment too, off the request path.

``ShadowRecorder.submit`` queues the live comment with the serving model's decision
and returns at once; one background thread per worker scores the queue with the
candidate (same history and site policy) and stores both verdicts in batches. The
queue is bounded: when the candidate cannot keep up, comments are skipped (and
counted), never the request delayed. ``moderation models compare`` reads the result.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from moderation.comment import Comment
from moderation.errors import ModerationError
from moderation.moderator import Decision, Moderator
from moderation.store import ShadowRecord, record_shadow

if TYPE_CHECKING:
    from service.runtime import Runtime

log = logging.getLogger("moderation.service")

_QUEUE_SIZE = 10_000
_BATCH_SECONDS = 0.2


@dataclass
class _Job:
    comment: Comment
    live: Decision
    history: dict[str, Any] | None
    key_id: str | None


class ShadowRecorder:
    """Scores queued live comments with the shadow model and stores both verdicts."""

    def __init__(self, runtime: Runtime, moderator: Moderator) -> None:
        self.moderator = moderator
        self.skipped = 0
        self._runtime = runtime
        self._queue: queue.Queue[_Job] = queue.Queue(_QUEUE_SIZE)
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def submit(
        self,
        comment: Comment,
        live: Decision,
        history: dict[str, Any] | None,
        key_id: str | None,
    ) -> None:
        """Queue one live comment; never blocks. The shadow model decides with its
        own thresholds and the same recent history."""
        try:
            self._queue.put_nowait(_Job(comment, live, history, key_id))
        except queue.Full:
            self.skipped += 1
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="shadow", daemon=True
                )
                self._thread.start()

    def drain(self) -> None:
        """Score and store everything queued now (tests, worker exit)."""
        self._write(self._take())

    def _take(self) -> list[_Job]:
        jobs = []
        while True:
            try:
                jobs.append(self._queue.get_nowait())
            except queue.Empty:
                return jobs

    def _run(self) -> None:
        while True:
            time.sleep(_BATCH_SECONDS)
            self._write(self._take())

    def _write(self, jobs: list[_Job]) -> None:
        if not jobs:
            return
        now = datetime.now(timezone.utc)
        retain = self._runtime.settings.retain_content
        records = []
        for job in jobs:
            try:
                shadow = self.moderator.score(job.comment, history=job.history)
            except ModerationError:
                continue
            records.append(
                ShadowRecord(
                    check_id=job.live.id,
                    created_at=now,
                    key_id=job.key_id,
                    live_model=job.live.model,
                    shadow_model=shadow.model,
                    live_verdict=job.live.verdict.value,
                    shadow_verdict=shadow.verdict.value,
                    live_spam=job.live.spam,
                    shadow_spam=shadow.spam,
                    content=job.comment.to_dict() if retain else None,
                )
            )
        try:
            record_shadow(
                self._runtime.engine, records, self._runtime.settings.shadow_max_rows
            )
        except Exception as exc:  # a store hiccup must not kill the thread
            log.warning(
                "shadow verdicts not recorded: %s",
                exc,
                extra={"event": "shadow_not_recorded", "checks": len(records)},
            )
