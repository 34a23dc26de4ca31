"""Akismet-compatible routes: ``/1.1/verify-key``, ``comment-check``, ``submit-spam``,
``submit-ham`` and ``/1.2/usage-limit``.

Clients compare the bodies literally, so they are exactly Akismet's: ``valid`` /
``invalid``, ``true`` / ``false`` / ``invalid``, and ``Thanks for making the web a
better place.``, as ``text/plain`` with status 200. The key comes from the ``api_key``
(or, for verify-key, ``key``) field or the Host's first label. Form fields are mapped
onto the same ``Comment`` that ``POST /v1/score`` scores; unknown fields are ignored and
control characters are replaced rather than refused, since WordPress holds a comment
for ever when the answer is neither ``true`` nor ``false``.

Comment-check scores like ``POST /v1/score``: with the site's recent history (copies,
bursts, reported domains) and the key's own policy.

Verdicts map as the contract says: ``spam`` → ``true``; ``discard`` → ``true`` with
``X-akismet-pro-tip: discard``; ``approve`` and ``hold`` → ``false``. The verdict,
scores and reason codes also travel in ``X-moderation-*`` headers. This module holds no
scoring or storage logic.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import parse_qsl

from flask import Blueprint, Response, g, jsonify, request

from moderation.comment import Author, Comment, Context, Label, Post
from moderation.explain import Reason
from moderation.history import comment_domains
from moderation.moderator import Decision
from moderation.policy import Rule, Verdict
from moderation.store import KeyInfo, count_checks, record_feedback
from service.api import decide, record
from service.auth import akismet_key, check_key
from service.runtime import runtime

__all__ = ["akismet"]

akismet = Blueprint("akismet", __name__)

THANKS = "Thanks for making the web a better place."
_FORM = "application/x-www-form-urlencoded"
_TEST_SPAM = ("akismet-guaranteed-spam", "viagra-test-123")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_TRUE = ("1", "true", "yes", "on")


def _text(body: str, headers: dict[str, str] | None = None) -> Response:
    response = Response(body, status=200, content_type="text/plain; charset=utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _parse_form(raw: bytes, charset: str) -> dict[str, str]:
    text = raw.decode(charset, "replace")
    return dict(
        parse_qsl(text, keep_blank_values=True, encoding=charset, errors="replace")
    )


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def _fields() -> dict[str, str]:
    """The request's fields: query parameters, then the form body (which wins).

    URL-encoded bodies are decoded here rather than by Werkzeug, which drops the whole
    form on one invalid byte: bytes that do not decode become U+FFFD. The charset is
    the Content-Type's, else the ``blog_charset`` field's, else UTF-8.
    """
    fields = {k: v for k, v in request.args.items()}
    if request.mimetype == _FORM:
        raw = request.get_data(cache=True)
        charset = _codec(request.mimetype_params.get("charset")) or "utf-8"
        form = _parse_form(raw, charset)
        declared = _codec(form.get("blog_charset"))
        if (
            declared
            and declared != charset
            and "charset" not in request.mimetype_params
        ):
            form = _parse_form(raw, declared)
        fields.update(form)
    else:
        fields.update(request.form.items())
    return fields


def _clean(value: str) -> str:
    return _CONTROL_RE.sub(" ", value)


def _invalid(why: str) -> Response:
    return _text("invalid", {"X-akismet-debug-help": why})


def _key(fields: Mapping[str, str], *names: str) -> KeyInfo | Response:
    key = akismet_key(fields, *names)
    if not key:
        return _invalid(
            "Empty API key: send it as 'api_key' or as the first label of the "
            "host name."
        )
    info = check_key(key)
    if info is None:
        return _invalid(
            "The API key is unknown or revoked; create one with "
            "'moderation keys create'."
        )
    return info


def to_comment(fields: Mapping[str, str]) -> Comment:
    """Map Akismet form fields onto a ``Comment`` (unknown fields ignored)."""

    def get(name: str) -> str:
        return _clean(fields.get(name, "")).strip()

    honeypot = ""
    honeypot_name = fields.get("honeypot_field_name", "")
    if honeypot_name:
        honeypot = get(honeypot_name)
    kind = get("comment_type") or get("content_type") or "comment"
    return Comment(
        content=_clean(fields.get("comment_content", "")),
        type=kind.lower(),
        author=Author(
            name=get("comment_author"),
            email=get("comment_author_email"),
            url=get("comment_author_url"),
            ip=get("user_ip"),
            user_agent=get("user_agent"),
            role=get("user_role"),
        ),
        post=Post(
            permalink=get("permalink"), published_at=get("comment_post_modified_gmt")
        ),
        context=Context(
            referrer=get("referrer"),
            honeypot=honeypot,
            lang=get("blog_lang"),
            parent_id=get("comment_parent"),
            recheck_reason=get("recheck_reason"),
        ),
    )


def _override(comment: Comment, decision: Decision) -> Decision:
    """Akismet's fixed answers: administrators never spam, test triggers always."""
    roles = {r.strip().lower() for r in comment.author.role.split(",")}
    if "administrator" in roles:
        reason = Reason("trusted_role", "The author is a site administrator.", 1.0)
        return Decision(
            Verdict.APPROVE,
            Rule.CLEAN,
            decision.spam,
            decision.low_value,
            [reason],
            decision.model,
            decision.id,
        )
    who = (comment.author.name.lower(), comment.author.email.lower())
    if any(trigger in value for trigger in _TEST_SPAM for value in who):
        reason = Reason("test_trigger", "The author is Akismet's test spammer.", 1.0)
        return Decision(
            Verdict.SPAM,
            Rule.SPAM,
            decision.spam,
            decision.low_value,
            [reason],
            decision.model,
            decision.id,
        )
    return decision


def _ascii(value: str) -> str:
    return value.encode("ascii", "ignore").decode("ascii")


@akismet.post("/1.1/verify-key")
def verify_key() -> Response:
    """``valid`` for a known key, else ``invalid`` with a debug hint."""
    result = _key(_fields(), "key", "api_key")
    if isinstance(result, Response):
        return result
    return _text("valid")


@akismet.post("/1.1/comment-check")
def comment_check() -> Response:
    """``true`` (spam), ``false`` (ham) or ``invalid`` (bad key)."""
    fields = _fields()
    key = _key(fields, "api_key")
    if isinstance(key, Response):
        return key
    comment = to_comment(fields)
    decision, recent = decide(comment, key)
    decision = _override(comment, decision)
    record([decision], [comment], key, "akismet", [recent])
    spam = decision.verdict in (Verdict.SPAM, Verdict.DISCARD)
    headers = {
        "X-akismet-guid": decision.id,
        "X-moderation-verdict": decision.verdict.value,
        "X-moderation-scores": (
            f"spam={decision.spam:.6f}, low_value={decision.low_value:.6f}"
        ),
        "X-moderation-reasons": ", ".join(_ascii(r.code) for r in decision.reasons),
    }
    if decision.verdict is Verdict.DISCARD:
        headers["X-akismet-pro-tip"] = "discard"
    return _text("true" if spam else "false", headers)


def _submit(label: Label) -> Response:
    fields = _fields()
    key = _key(fields, "api_key")
    if isinstance(key, Response):
        return key
    if fields.get("is_test", "").strip().lower() in _TRUE:
        return _text(THANKS)
    engine = runtime().engine
    check_id = fields.get("guid", "").strip() or None
    if check_id is not None:
        check = runtime().find_check(check_id[:64])
        if check is None or (check.key_id is not None and check.key_id != key.id):
            check_id = None
    comment = to_comment(fields)
    g.content = comment.content
    record_feedback(
        engine,
        label,
        check_id=check_id,
        content=comment.to_dict(),
        key_id=key.id,
        ip=request.remote_addr,
        source="akismet",
        domains=comment_domains(comment),
    )
    g.check_id = check_id
    return _text(THANKS)


@akismet.post("/1.1/submit-spam")
def submit_spam() -> Response:
    """Record a missed spam; exactly ``Thanks for making the web a better place.``"""
    return _submit(Label.SPAM)


@akismet.post("/1.1/submit-ham")
def submit_ham() -> Response:
    """Record a false positive; exactly ``Thanks for making the web a better place.``"""
    return _submit(Label.HAM)


@akismet.route("/1.2/usage-limit", methods=["GET", "POST"])
def usage_limit() -> Response:
    """Usage this month; the limit is ``none`` (self-hosted, unlimited)."""
    fields = _fields()
    key = _key(fields, "api_key")
    if isinstance(key, Response):
        return key
    now = datetime.now(timezone.utc)
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    runtime().checks.flush()
    usage = count_checks(runtime().engine, key.id, month)
    body: dict[str, object] = {
        "limit": "none",
        "usage": usage,
        "percentage": "0.00",
        "throttled": False,
    }
    if fields.get("extended", "").strip().lower() in _TRUE:
        body["notice_level"] = None
        body["upgrade"] = None
    return jsonify(body)
