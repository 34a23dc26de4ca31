"""Every error path answers with the one JSON envelope and the right status."""

from __future__ import annotations

import json

import pytest

from service import create_app

GOOD = json.dumps({"content": "hello"}).encode()
JSON = "application/json"

# (id, method, path, body, content type, headers: "auth" | "none" | "bad", status, code)
CASES = [
    ("no-key", "POST", "/v1/score", GOOD, JSON, "none", 401, "missing_key"),
    ("bad-key", "POST", "/v1/score", GOOD, JSON, "bad", 401, "invalid_key"),
    ("basic-auth", "POST", "/v1/score", GOOD, JSON, "basic", 401, "missing_key"),
    (
        "batch-no-key",
        "POST",
        "/v1/score/batch",
        b'{"comments":[]}',
        JSON,
        "none",
        401,
        "missing_key",
    ),
    (
        "feedback-no-key",
        "POST",
        "/v1/feedback",
        b"{}",
        JSON,
        "none",
        401,
        "missing_key",
    ),
    ("unknown-route", "GET", "/v2/nothing", None, None, "auth", 404, "not_found"),
    ("get-score", "GET", "/v1/score", None, None, "auth", 405, "method_not_allowed"),
    ("post-model", "POST", "/v1/model", GOOD, JSON, "auth", 405, "method_not_allowed"),
    (
        "get-comment-check",
        "GET",
        "/1.1/comment-check",
        None,
        None,
        "none",
        405,
        "method_not_allowed",
    ),
    (
        "too-large",
        "POST",
        "/v1/score",
        b'{"content":"' + b"a" * 3000 + b'"}',
        JSON,
        "auth",
        413,
        "payload_too_large",
    ),
    (
        "too-large-akismet",
        "POST",
        "/1.1/comment-check",
        b"comment_content=" + b"a" * 3000,
        "application/x-www-form-urlencoded",
        "none",
        413,
        "payload_too_large",
    ),
    (
        "text-plain",
        "POST",
        "/v1/score",
        GOOD,
        "text/plain",
        "auth",
        415,
        "unsupported_media_type",
    ),
    (
        "form",
        "POST",
        "/v1/score",
        b"content=hi",
        "application/x-www-form-urlencoded",
        "auth",
        415,
        "unsupported_media_type",
    ),
    (
        "no-content-type",
        "POST",
        "/v1/score",
        GOOD,
        None,
        "auth",
        415,
        "unsupported_media_type",
    ),
    (
        "latin1",
        "POST",
        "/v1/score",
        GOOD,
        "application/json; charset=latin-1",
        "auth",
        415,
        "unsupported_media_type",
    ),
    (
        "malformed",
        "POST",
        "/v1/score",
        b'{"content": ',
        JSON,
        "auth",
        400,
        "malformed_json",
    ),
    ("empty-body", "POST", "/v1/score", b"", JSON, "auth", 400, "malformed_json"),
    (
        "nan",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"posts": NaN}}',
        JSON,
        "auth",
        400,
        "malformed_json",
    ),
    (
        "deep",
        "POST",
        "/v1/score",
        b"[" * 100_0 + b"]" * 100_0,
        JSON,
        "auth",
        400,
        "malformed_json",
    ),
    (
        "bad-utf8",
        "POST",
        "/v1/score",
        b'{"content": "caf\xe9"}',
        JSON,
        "auth",
        400,
        "invalid_utf8",
    ),
    (
        "surrogate",
        "POST",
        "/v1/score",
        b'{"content": "\\ud800"}',
        JSON,
        "auth",
        400,
        "invalid_utf8",
    ),
    ("array", "POST", "/v1/score", b"[]", JSON, "auth", 422, "invalid_type"),
    ("string", "POST", "/v1/score", b'"hi"', JSON, "auth", 422, "invalid_type"),
    (
        "missing-content",
        "POST",
        "/v1/score",
        b'{"text": "hi"}',
        JSON,
        "auth",
        422,
        "missing_field",
    ),
    (
        "content-number",
        "POST",
        "/v1/score",
        b'{"content": 5}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "content-null",
        "POST",
        "/v1/score",
        b'{"content": null}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "author-string",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": "bob"}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "followers-string",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"followers": "3"}}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "followers-negative",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"followers": -1}}',
        JSON,
        "auth",
        422,
        "invalid_value",
    ),
    (
        "followers-fraction",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"followers": 1.5}}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "followers-huge",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"followers": 1' + b"0" * 400 + b"}}",
        JSON,
        "auth",
        422,
        "invalid_value",
    ),
    (
        "age-infinite",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"account_age_days": 1e999}}',
        JSON,
        "auth",
        422,
        "invalid_value",
    ),
    (
        "bool-count",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"posts": true}}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "control-char",
        "POST",
        "/v1/score",
        b'{"content": "a\\u0000b"}',
        JSON,
        "auth",
        422,
        "invalid_text",
    ),
    (
        "control-char-nested",
        "POST",
        "/v1/score",
        b'{"content": "x", "author": {"name": "a\\u001bb"}}',
        JSON,
        "auth",
        422,
        "invalid_text",
    ),
    (
        "batch-not-list",
        "POST",
        "/v1/score/batch",
        b'{"comments": {}}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "batch-missing",
        "POST",
        "/v1/score/batch",
        b"{}",
        JSON,
        "auth",
        422,
        "missing_field",
    ),
    (
        "batch-bad-item",
        "POST",
        "/v1/score/batch",
        b'{"comments": [{"content": "a"}, {}]}',
        JSON,
        "auth",
        422,
        "missing_field",
    ),
    (
        "batch-too-many",
        "POST",
        "/v1/score/batch",
        json.dumps({"comments": [{"content": ""}] * 4}).encode(),
        JSON,
        "auth",
        422,
        "too_many_items",
    ),
    (
        "feedback-no-label",
        "POST",
        "/v1/feedback",
        b'{"id": "x"}',
        JSON,
        "auth",
        422,
        "missing_field",
    ),
    (
        "feedback-bad-label",
        "POST",
        "/v1/feedback",
        b'{"id": "x", "label": "bad"}',
        JSON,
        "auth",
        422,
        "invalid_value",
    ),
    (
        "feedback-neither",
        "POST",
        "/v1/feedback",
        b'{"label": "spam"}',
        JSON,
        "auth",
        422,
        "missing_field",
    ),
    (
        "feedback-bad-comment",
        "POST",
        "/v1/feedback",
        b'{"label": "spam", "comment": {"content": 1}}',
        JSON,
        "auth",
        422,
        "invalid_type",
    ),
    (
        "feedback-unknown-check",
        "POST",
        "/v1/feedback",
        b'{"id": "nope", "label": "spam"}',
        JSON,
        "auth",
        404,
        "unknown_check",
    ),
]


@pytest.fixture
def small_app(settings):
    from dataclasses import replace

    return create_app(replace(settings, max_body_bytes=2048, max_batch=3))


@pytest.mark.parametrize(
    "method, path, body, content_type, who, status, code",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_error_envelope(small_app, method, path, body, content_type, who, status, code):
    """Each client mistake gets its status and {"error": {"code", "message"}}."""
    from moderation.store import create_key

    key, _ = create_key(
        small_app.extensions["moderation"].engine, "https://blog.example"
    )
    headers = {
        "auth": {"Authorization": f"Bearer {key}"},
        "bad": {"Authorization": "Bearer abcdefghijkl"},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
        "none": {},
    }[who]
    if content_type:
        headers["Content-Type"] = content_type
    response = small_app.test_client().open(
        path, method=method, data=body, headers=headers
    )
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    envelope = response.get_json()
    assert list(envelope) == ["error"]
    assert set(envelope["error"]) == {"code", "message"}
    assert envelope["error"]["code"] == code
    message = envelope["error"]["message"]
    assert message and "Traceback" not in message and key not in message
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if status == 405:
        assert response.headers["Allow"]


def test_unexpected_exception_is_a_generic_500(app, client, auth, monkeypatch, caplog):
    """A bug answers a generic 500 envelope; the exception text stays in the log."""
    moderator = app.extensions["moderation"].moderator

    def explode(comment):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(moderator, "score", explode)
    response = client.post("/v1/score", json={"content": "x"}, headers=auth)
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"]["code"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)
    assert any(
        "secret internal detail" in (r.exc_text or "") or r.exc_info
        for r in caplog.records
    )


def test_store_failure_during_feedback_is_503_and_nothing_claimed(
    app, client, auth, monkeypatch
):
    from moderation.errors import StoreError

    def fail(*args, **kwargs):
        raise StoreError("cannot record the feedback (disk I/O error)")

    monkeypatch.setattr("service.api.record_feedback", fail)
    check = client.post("/v1/score", json={"content": "x"}, headers=auth).get_json()
    response = client.post(
        "/v1/feedback", json={"id": check["id"], "label": "spam"}, headers=auth
    )
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "store_unavailable"


def test_rate_limit_is_429_with_retry_after(settings):
    """Over MODERATION_RATE_LIMIT a key gets 429, Retry-After and the envelope."""
    from dataclasses import replace

    from moderation.store import create_key

    app = create_app(replace(settings, rate_limit=3))
    key, _ = create_key(app.extensions["moderation"].engine, "https://blog.example")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    statuses = [
        client.post("/v1/score", json={"content": "x"}, headers=headers).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 200]
    limited = client.post("/v1/score", json={"content": "x"}, headers=headers)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    akismet = client.post("/1.1/comment-check", data={"api_key": key})
    assert akismet.status_code == 429 and "Retry-After" in akismet.headers
    other, _ = create_key(app.extensions["moderation"].engine, "https://other.example")
    fresh = client.post(
        "/v1/score", json={"content": "x"}, headers={"Authorization": f"Bearer {other}"}
    )
    assert fresh.status_code == 200
