"""The JSON API (``/v1``) and the operations routes: health, readiness, metrics, docs.

Each route authenticates, reads and validates its body against ``schemas``, calls the
library (``Moderator``, ``store``) and answers in JSON; every client mistake becomes an
``ApiError`` in the envelope. This module holds no scoring or storage logic.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from moderation.comment import Comment, Label
from moderation.errors import InvalidComment
from moderation.history import comment_domains
from moderation.moderator import Decision
from moderation.store import CheckRecord, KeyInfo, record_feedback
from service import schemas
from service.auth import require_key
from service.errors import ApiError
from service.runtime import runtime
from service.telemetry import metrics_response, note_verdicts

__all__ = ["decide", "ops", "read_json", "record", "v1"]

log = logging.getLogger("moderation.service")

v1 = Blueprint("v1", __name__, url_prefix="/v1")
ops = Blueprint("ops", __name__)


# --- reading requests -----------------------------------------------------------------


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def read_json(schema: schemas.Schema) -> Any:
    """The request's JSON body, validated against ``schema``.

    Raises:
        ApiError: 415 not JSON, 413 too large, 400 invalid UTF-8 or malformed JSON,
            422 not matching the schema.
    """
    if request.mimetype != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the body as JSON with 'Content-Type: application/json'"
            + (f", not {request.mimetype}." if request.mimetype else "."),
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"The body must be UTF-8, not {charset[:40]}; "
            "send 'charset=utf-8' or none.",
        )
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(
            400,
            "invalid_utf8",
            "The body is not valid UTF-8; encode the JSON text as UTF-8.",
        ) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        where = (
            f" at line {exc.lineno}, column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise ApiError(
            400,
            "malformed_json",
            f"The body is not valid JSON{where}; send one JSON object.",
        ) from None
    if "\\u" in text and _has_surrogate(value):
        raise ApiError(
            400,
            "invalid_utf8",
            "The body holds a lone surrogate escape (\\ud800-\\udfff), which is not "
            "valid Unicode text; send whole characters.",
        )
    try:
        schemas.validate(schema, value)
    except schemas.SchemaError as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    return value


def _comment(data: Any, where: str = "") -> Comment:
    try:
        return Comment.from_dict(data)
    except InvalidComment as exc:
        prefix = f"{where}: " if where else ""
        raise ApiError(422, "invalid_comment", f"{prefix}{exc}") from None


# --- recording checks -----------------------------------------------------------------


def decide(comment: Comment, key: KeyInfo | None) -> tuple[Decision, Any]:
    """Score a comment for a key's site, with its recent history and site policy.

    Returns:
        The decision, and the comment's history fingerprint for ``record``.
    """
    rt = runtime()
    moderator = rt.require_moderator()
    history, recent = rt.history(comment, key)
    decision = moderator.score(comment, history=history, policy=rt.policy_for(key))
    if rt.shadow is not None:
        rt.shadow.submit(comment, decision, history, key.id if key else None)
    return decision, recent


def record(
    decisions: list[Decision],
    comments: list[Comment],
    key: KeyInfo | None,
    surface: str,
    recent: list[Any] | None = None,
) -> None:
    """Count the verdicts; store the checks (the comment only if retention is on) and
    the comments' history fingerprints.

    Both are written in batches off the request path (see ``CheckWriter``); a store
    failure is logged, not raised: the engine still gets its verdict.
    """
    rt = runtime()
    note_verdicts([d.verdict.value for d in decisions], surface)
    if decisions:
        g.model = decisions[0].model
        g.check_id = decisions[0].id if len(decisions) == 1 else None
        g.content = comments[0].content if len(comments) == 1 else None
    now = datetime.now(timezone.utc)
    retain = rt.settings.retain_content
    records = [
        CheckRecord(
            id=d.id,
            created_at=now,
            key_id=key.id if key else None,
            site=key.site if key else None,
            model_version=d.model,
            verdict=d.verdict.value,
            spam=d.spam,
            low_value=d.low_value,
            content=c.to_dict() if retain else None,
        )
        for d, c in zip(decisions, comments, strict=True)
    ]
    rt.checks.submit(records, [r for r in recent or [] if r is not None])


# --- /v1 ------------------------------------------------------------------------------


@v1.post("/score")
def score() -> Response:
    """Score one comment."""
    key = require_key()
    comment = _comment(read_json(schemas.SCORE_REQUEST))
    decision, recent = decide(comment, key)
    record([decision], [comment], key, "v1", [recent])
    return jsonify(decision.to_dict())


@v1.post("/score/batch")
def score_batch() -> Response:
    """Score several comments, in order."""
    key = require_key()
    body = read_json(current_app.config["MODERATION_BATCH_SCHEMA"])
    comments = [
        _comment(item, f"comments[{i}]") for i, item in enumerate(body["comments"])
    ]
    runtime().require_moderator()
    # Each comment reads the history as stored before the batch: copies within one
    # batch are not counted against each other.
    decisions, recent = [], []
    for comment in comments:
        decision, fingerprint = decide(comment, key)
        decisions.append(decision)
        recent.append(fingerprint)
    record(decisions, comments, key, "v1", recent)
    return jsonify({"results": [d.to_dict() for d in decisions]})


@v1.post("/feedback")
def feedback() -> tuple[Response, int]:
    """Record a moderator's label for a check or a comment; committed, then 202."""
    key = require_key()
    body = read_json(schemas.FEEDBACK_REQUEST)
    label = Label(body["label"])
    comment = _comment(body["comment"], "comment") if "comment" in body else None
    engine = runtime().engine
    check_id = body.get("id")
    if check_id is not None:
        check = runtime().find_check(check_id)
        if check is None or (check.key_id is not None and check.key_id != key.id):
            raise ApiError(
                404,
                "unknown_check",
                "No check with this id was made with your key; send the 'id' of a "
                "score "
                "response, or the comment itself as 'comment'.",
            )
    feedback_id = record_feedback(
        engine,
        label,
        check_id=check_id,
        content=comment.to_dict() if comment is not None else None,
        key_id=key.id,
        ip=request.remote_addr,
        source="api",
        domains=_domains(comment, check_id),
    )
    g.check_id = check_id
    return jsonify({"stored": True, "id": feedback_id, "check_id": check_id}), 202


def _domains(comment: Comment | None, check_id: str | None) -> tuple[str, ...]:
    # The domains a spam label reports: the comment's, else the retained check's.
    if comment is None and check_id is not None:
        check = runtime().find_check(check_id)
        if check is not None and check.content is not None:
            try:
                comment = Comment.from_dict(check.content)
            except InvalidComment:
                comment = None
    return comment_domains(comment) if comment is not None else ()


@v1.get("/model")
def model() -> Response:
    """The loaded model: version, data, metrics and thresholds (no key needed)."""
    moderator = runtime().require_moderator()
    manifest = moderator.model.manifest
    return jsonify(
        {
            "version": moderator.version,
            "trained_at": manifest.get("created_at"),
            "training_data": manifest.get("training_data", {}),
            "metrics": manifest.get("metrics", {}),
            "thresholds": moderator.thresholds.to_dict(),
            "allow_discard": moderator.policy.allow_discard,
            "libraries": manifest.get("libraries", {}),
        }
    )


# --- operations -----------------------------------------------------------------------


@ops.get("/healthz")
def healthz() -> Response:
    """200 while the process is up."""
    return jsonify({"status": "ok"})


@ops.get("/readyz")
def readyz() -> Response:
    """200 when a model is loaded and the store answers; else 503 with the reason."""
    problems = runtime().problems()
    if problems:
        code, message = problems[0]
        if len(problems) > 1:
            message += " Also: " + " ".join(m for _, m in problems[1:])
        raise ApiError(503, code, message)
    rt = runtime()
    rt.maybe_reload()
    assert rt.moderator is not None
    body = {"status": "ready", "model": rt.moderator.version}
    if rt.reload_error:
        # Still ready on the old model; say why the promoted one is not serving.
        body["reload_error"] = rt.reload_error
    return jsonify(body)


@ops.get("/metrics")
def metrics() -> Response:
    """Prometheus text format."""
    return metrics_response(runtime().settings.metrics_dir)


@ops.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document, generated from ``schemas``."""
    return jsonify(current_app.config["MODERATION_OPENAPI"])
