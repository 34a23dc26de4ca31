"""The Akismet-compatible routes, byte for byte (akismet.md)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from moderation import store
from service import create_app
from service.akismet import THANKS, to_comment

FORM = "application/x-www-form-urlencoded"
TEXT = "text/plain; charset=utf-8"

COMMENT = {
    "blog": "https://blog.example",
    "user_ip": "192.0.2.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "referrer": "https://blog.example/p/1",
    "permalink": "https://blog.example/p/1",
    "comment_type": "comment",
    "comment_author": "Ann",
    "comment_author_email": "ann@example.org",
    "comment_content": "Does this work on ARM? My Raspberry Pi throws a segfault.",
    # WordPress sends dozens of fields no client library knows: all ignored.
    "akismet_comment_nonce": "passed",
    "POST_ak_js": "1700000000",
    "HTTP_ACCEPT_LANGUAGE": "en",
    "comment_context[]": "tag",
}


def _app_with(settings, **thresholds):
    """An app whose thresholds force a verdict, and a key for it."""
    app = create_app(replace(settings, **thresholds))
    key, _ = store.create_key(
        app.extensions["moderation"].engine, "https://blog.example"
    )
    return app.test_client(), key


ALWAYS = {
    "approve": {
        "hold_threshold": 1.0,
        "spam_threshold": 1.0,
        "discard_threshold": 1.0,
        "low_value_threshold": 1.0,
    },
    "hold": {"hold_threshold": 0.0, "spam_threshold": 1.0, "discard_threshold": 1.0},
    "spam": {"hold_threshold": 0.0, "spam_threshold": 0.0, "discard_threshold": 1.0},
    "discard": {"hold_threshold": 0.0, "spam_threshold": 0.0, "discard_threshold": 0.0},
}


def _check(client, key, **fields):
    return client.post("/1.1/comment-check", data={**COMMENT, "api_key": key, **fields})


@pytest.mark.parametrize(
    "verdict, body, discard",
    [
        ("approve", b"false", False),
        ("hold", b"false", False),
        ("spam", b"true", False),
        ("discard", b"true", True),
    ],
)
def test_comment_check_maps_verdicts(settings, verdict, body, discard):
    """spam → true; discard → true + pro-tip; approve and hold → false."""
    client, key = _app_with(settings, **ALWAYS[verdict])
    response = _check(client, key)
    assert response.status_code == 200
    assert response.data == body
    assert response.headers["Content-Type"] == TEXT
    assert response.headers["X-moderation-verdict"] == verdict
    assert ("X-akismet-pro-tip" in response.headers) is discard
    if discard:
        assert response.headers["X-akismet-pro-tip"] == "discard"


def test_comment_check_headers_carry_guid_scores_and_reasons(
    app, client, api_key, engine
):
    response = _check(client, api_key)
    app.extensions["moderation"].checks.flush()
    guid = response.headers["X-akismet-guid"]
    check = store.find_check(engine, guid)
    assert (
        check is not None and check.verdict == response.headers["X-moderation-verdict"]
    )
    scores = dict(
        part.split("=") for part in response.headers["X-moderation-scores"].split(", ")
    )
    assert set(scores) == {"spam", "low_value"}
    assert float(scores["spam"]) == pytest.approx(check.spam, abs=1e-6)
    codes = response.headers["X-moderation-reasons"].split(", ")
    assert codes and all(code.replace("_", "").isalnum() for code in codes)


def test_comment_check_matches_v1_scores(client, api_key, auth):
    """The Akismet route scores the same comment as /v1/score would."""
    akismet = _check(client, api_key)
    v1 = client.post("/v1/score", headers=auth, json=to_comment(COMMENT).to_dict())
    assert akismet.headers["X-moderation-verdict"] == v1.get_json()["verdict"]


@pytest.mark.parametrize(
    "fields",
    [
        {"comment_author": "akismet-guaranteed-spam"},
        {"comment_author_email": "akismet-guaranteed-spam@example.com"},
        {"comment_author": "viagra-test-123"},
    ],
)
def test_test_triggers_are_spam(settings, fields):
    client, key = _app_with(settings, **ALWAYS["approve"])
    response = _check(client, key, **fields)
    assert response.data == b"true"
    assert response.headers["X-moderation-reasons"] == "test_trigger"


@pytest.mark.parametrize("role", ["administrator", "editor, Administrator"])
def test_administrator_is_never_spam(settings, role):
    client, key = _app_with(settings, **ALWAYS["discard"])
    response = _check(
        client, key, user_role=role, comment_author="akismet-guaranteed-spam"
    )
    assert response.data == b"false"
    assert "X-akismet-pro-tip" not in response.headers
    assert response.headers["X-moderation-verdict"] == "approve"


def test_bad_or_missing_key_is_invalid_with_debug_help(client):
    for data in ({**COMMENT, "api_key": "abcdefghijkl"}, COMMENT):
        response = client.post("/1.1/comment-check", data=data)
        assert response.status_code == 200
        assert response.data == b"invalid"
        assert response.headers["Content-Type"] == TEXT
        assert response.headers["X-akismet-debug-help"]
        assert "X-akismet-guid" not in response.headers


def test_verify_key(client, api_key):
    """valid for a good key (as key or api_key), invalid + debug help otherwise."""
    for field in ("key", "api_key"):
        response = client.post(
            "/1.1/verify-key", data={field: api_key, "blog": "https://blog.example"}
        )
        assert response.data == b"valid"
        assert response.headers["Content-Type"] == TEXT
        assert "X-akismet-debug-help" not in response.headers
    response = client.post("/1.1/verify-key", data={"key": "000000000000", "blog": "x"})
    assert response.data == b"invalid"
    assert response.headers["X-akismet-debug-help"]


def test_key_from_host_subdomain(client, api_key):
    """Older clients call https://{key}.rest.akismet.com/1.1/..."""
    host = f"{api_key}.rest.akismet.com"
    response = client.post(
        "/1.1/verify-key", data={"blog": "x"}, base_url=f"http://{host}"
    )
    assert response.data == b"valid"
    response = client.post(
        "/1.1/comment-check",
        data=COMMENT,
        base_url=f"http://{api_key.upper()}.localhost:8000",
    )
    assert response.data in (b"true", b"false")
    response = client.post(
        "/1.1/verify-key",
        data={"blog": "x"},
        base_url="http://abcdefghijkl.example.com",
    )
    assert response.data == b"invalid"


@pytest.mark.parametrize(
    "path, label", [("/1.1/submit-spam", "spam"), ("/1.1/submit-ham", "ham")]
)
def test_submit_records_feedback(client, api_key, engine, path, label):
    """submit-spam/ham answer the exact thanks and store feedback like /v1/feedback."""
    guid = _check(client, api_key).headers["X-akismet-guid"]
    response = client.post(
        path,
        data={
            **COMMENT,
            "api_key": api_key,
            "guid": guid,
            "comment_check_response": "false",
            "reporter": "admin",
        },
    )
    assert response.status_code == 200
    assert (
        response.data == THANKS.encode() == b"Thanks for making the web a better place."
    )
    assert response.headers["Content-Type"] == TEXT
    (row,) = store.export_feedback(engine)
    assert (row["label"], row["check_id"], row["source"]) == (label, guid, "akismet")
    assert row["content"]["content"] == COMMENT["comment_content"]


def test_submit_without_a_known_guid_still_stores(client, api_key, engine):
    response = client.post(
        "/1.1/submit-spam", data={**COMMENT, "api_key": api_key, "guid": "unknown"}
    )
    assert response.data == THANKS.encode()
    (row,) = store.export_feedback(engine)
    assert row["check_id"] is None


def test_submit_with_bad_key_is_invalid(client, engine):
    response = client.post("/1.1/submit-ham", data={**COMMENT, "api_key": "nope"})
    assert response.data == b"invalid"
    assert list(store.export_feedback(engine)) == []


def test_submit_test_requests_are_not_stored(client, api_key, engine):
    response = client.post(
        "/1.1/submit-spam", data={**COMMENT, "api_key": api_key, "is_test": "1"}
    )
    assert response.data == THANKS.encode()
    assert list(store.export_feedback(engine)) == []


def test_usage_limit(client, api_key):
    _check(client, api_key)
    for method in ("GET", "POST"):
        response = client.open(f"/1.2/usage-limit?api_key={api_key}", method=method)
        assert response.status_code == 200
        assert response.mimetype == "application/json"
        assert response.get_json() == {
            "limit": "none",
            "usage": 1,
            "percentage": "0.00",
            "throttled": False,
        }
    extended = client.get(
        f"/1.2/usage-limit?api_key={api_key}&extended=true"
    ).get_json()
    assert {"notice_level", "upgrade"} <= set(extended)
    assert client.get("/1.2/usage-limit?api_key=nope").data == b"invalid"


def test_field_mapping():
    """Akismet fields map onto the Comment /v1/score takes; content_type is an alias."""
    comment = to_comment(
        {
            **COMMENT,
            "comment_type": "",
            "content_type": "Forum-Post",
            "user_role": "subscriber",
            "honeypot_field_name": "hp",
            "hp": "filled",
            "comment_parent": "12",
            "recheck_reason": "edit",
            "blog_lang": "en, fr_ca",
            "comment_post_modified_gmt": "2024-01-01T00:00:00Z",
            "comment_author_url": "https://ann.example",
        }
    )
    assert comment.type == "forum-post"
    assert comment.content == COMMENT["comment_content"]
    assert (comment.author.name, comment.author.email, comment.author.url) == (
        "Ann",
        "ann@example.org",
        "https://ann.example",
    )
    assert (comment.author.ip, comment.author.user_agent, comment.author.role) == (
        "192.0.2.7",
        COMMENT["user_agent"],
        "subscriber",
    )
    assert (comment.post.permalink, comment.post.published_at) == (
        COMMENT["permalink"],
        "2024-01-01T00:00:00Z",
    )
    assert (
        comment.context.referrer,
        comment.context.honeypot,
        comment.context.parent_id,
        comment.context.recheck_reason,
        comment.context.lang,
    ) == (COMMENT["referrer"], "filled", "12", "edit", "en, fr_ca")


def test_odd_input_never_breaks_the_answer(client, api_key):
    """Control characters, bad UTF-8 and a charset suffix still get true or false."""
    bodies = [
        b"api_key=" + api_key.encode() + b"&comment_content=caf%E9%00%1b%FF",
        b"api_key=" + api_key.encode() + b"&comment_content=\xff\xfe",
        b"api_key=" + api_key.encode(),
    ]
    for body in bodies:
        response = client.post(
            "/1.1/comment-check", data=body, content_type=f"{FORM}; charset=UTF-8"
        )
        assert response.status_code == 200
        assert response.data in (b"true", b"false")


def test_blog_charset_decodes_legacy_forms(client, api_key, engine):
    """A latin-1 blog's percent-encoded bytes are read in its declared charset."""
    body = (
        b"api_key="
        + api_key.encode()
        + b"&blog_charset=ISO-8859-1&comment_content=caf%E9"
    )
    client.post("/1.1/submit-ham", data=body, content_type=FORM)
    (row,) = store.export_feedback(engine)
    assert row["content"]["content"] == "café"
