"""The /v1 routes and the operations routes, against the wire contract (api.md)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from moderation import store
from service import create_app

SPAM = {"content": "Buy cheap followers now http://followers.example.com click here"}
HAM = {"content": "Thanks, the flaxseed tip fixed my cast iron pan."}
FULL = {
    "content": "Does this work on ARM? My Raspberry Pi throws a segfault on step 3.",
    "type": "reply",
    "author": {
        "name": "Ann",
        "email": "ann@example.org",
        "url": "",
        "ip": "192.0.2.7",
        "user_agent": "Mozilla/5.0",
        "role": "subscriber",
        "followers": 3,
        "following": 10,
        "posts": 12,
        "account_age_days": 400.5,
        "approved_comments": 7,
    },
    "post": {
        "permalink": "https://blog.example/p/1",
        "title": "Cross-compiling",
        "text": "How to...",
        "published_at": "2024-01-01T00:00:00Z",
    },
    "context": {
        "referrer": "https://blog.example/p/1",
        "honeypot": "",
        "seconds_to_submit": 42.0,
        "lang": "en",
        "parent_id": "17",
        "recheck_reason": "",
    },
    "client_id": "wp-123",
    "unknown_field": {"ignored": True},
}


def _assert_score_response(body: dict) -> None:
    assert set(body) == {"id", "verdict", "scores", "reasons", "model"}
    assert body["verdict"] in ("approve", "hold", "spam", "discard")
    assert set(body["scores"]) == {"spam", "low_value"}
    assert all(0.0 <= v <= 1.0 for v in body["scores"].values())
    weights = [r["weight"] for r in body["reasons"]]
    assert weights == sorted(weights, reverse=True)
    for reason in body["reasons"]:
        assert set(reason) == {"code", "message", "weight"}


def test_score_returns_verdict_scores_reasons_and_model(client, auth, moderator):
    """POST /v1/score answers the contract's score response for a minimal request."""
    response = client.post("/v1/score", json=SPAM, headers=auth)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    _assert_score_response(body)
    assert body["model"] == moderator.version
    assert body["verdict"] in ("spam", "discard", "hold")


def test_score_accepts_every_documented_field_and_ignores_unknown(client, auth):
    response = client.post("/v1/score", json=FULL, headers=auth)
    assert response.status_code == 200, response.get_json()
    _assert_score_response(response.get_json())


def test_score_matches_the_library(client, auth, moderator):
    """The service gives the same scores as Moderator.score (one scoring path)."""
    from moderation.comment import Comment

    body = client.post("/v1/score", json=FULL, headers=auth).get_json()
    expected = moderator.score(Comment.from_dict(FULL)).to_dict()
    assert body["scores"] == expected["scores"]
    assert body["verdict"] == expected["verdict"]
    assert body["reasons"] == expected["reasons"]


def test_score_records_a_check_without_content_by_default(app, client, auth, engine):
    body = client.post("/v1/score", json=HAM, headers=auth).get_json()
    app.extensions["moderation"].checks.flush()
    check = store.find_check(engine, body["id"])
    assert check is not None and check.verdict == body["verdict"]
    assert check.content is None


def test_score_retains_content_when_configured(settings, api_key):
    from dataclasses import replace

    app = create_app(replace(settings, retain_content=True))
    engine = app.extensions["moderation"].engine
    key, _ = store.create_key(engine, "https://blog.example")
    body = (
        app.test_client()
        .post("/v1/score", json=HAM, headers={"Authorization": f"Bearer {key}"})
        .get_json()
    )
    app.extensions["moderation"].checks.flush()
    assert store.find_check(engine, body["id"]).content["content"] == HAM["content"]


def test_batch_scores_in_order(client, auth):
    comments = [SPAM, HAM, FULL]
    response = client.post("/v1/score/batch", json={"comments": comments}, headers=auth)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert len(results) == 3
    for result, comment in zip(results, comments, strict=True):
        _assert_score_response(result)
        single = client.post("/v1/score", json=comment, headers=auth).get_json()
        assert result["scores"] == single["scores"]
    assert len({r["id"] for r in results}) == 3


def test_empty_batch_is_fine(client, auth):
    response = client.post("/v1/score/batch", json={"comments": []}, headers=auth)
    assert response.status_code == 200 and response.get_json() == {"results": []}


def test_batch_limit_is_configurable(settings):
    from dataclasses import replace

    app = create_app(replace(settings, max_batch=2))
    key, _ = store.create_key(app.extensions["moderation"].engine, "https://b.example")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    ok = client.post("/v1/score/batch", json={"comments": [HAM] * 2}, headers=headers)
    assert ok.status_code == 200
    over = client.post("/v1/score/batch", json={"comments": [HAM] * 3}, headers=headers)
    assert over.status_code == 422
    assert over.get_json()["error"]["code"] == "too_many_items"
    doc = client.get("/openapi.json").get_json()
    assert (
        doc["components"]["schemas"]["BatchRequest"]["properties"]["comments"][
            "maxItems"
        ]
        == 2
    )


def test_feedback_by_id_is_stored_and_exported(client, auth, engine):
    check = client.post("/v1/score", json=SPAM, headers=auth).get_json()
    response = client.post(
        "/v1/feedback", json={"id": check["id"], "label": "ham"}, headers=auth
    )
    assert response.status_code == 202
    body = response.get_json()
    assert body["stored"] is True and body["check_id"] == check["id"]
    assert isinstance(body["id"], str) and body["id"]
    rows = list(store.export_feedback(engine))
    assert [(r["check_id"], r["label"]) for r in rows] == [(check["id"], "ham")]


def test_feedback_by_comment_stores_the_comment(client, auth, engine):
    response = client.post(
        "/v1/feedback", json={"comment": FULL, "label": "low_value"}, headers=auth
    )
    assert response.status_code == 202
    (row,) = store.export_feedback(engine)
    assert row["label"] == "low_value" and row["check_id"] is None
    assert row["content"]["content"] == FULL["content"]
    assert "unknown_field" not in row["content"]


def test_feedback_for_an_unknown_check_is_404(client, auth):
    response = client.post(
        "/v1/feedback", json={"id": "nope", "label": "spam"}, headers=auth
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_check"


def test_feedback_for_another_keys_check_is_404(client, auth, engine):
    """One site cannot label another site's checks."""
    check = client.post("/v1/score", json=SPAM, headers=auth).get_json()
    other, _ = store.create_key(engine, "https://other.example")
    response = client.post(
        "/v1/feedback",
        json={"id": check["id"], "label": "ham"},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert response.status_code == 404


def test_model_needs_no_key(client, moderator):
    body = client.get("/v1/model").get_json()
    assert body["version"] == moderator.version
    assert set(body["thresholds"]) >= {"hold", "spam"}
    for name in ("trained_at", "training_data", "metrics"):
        assert name in body


def test_healthz_and_readyz(client, moderator):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready", "model": moderator.version}


def test_readyz_without_a_model_is_503_with_the_reason(tmp_path):
    from moderation.config import load_settings

    app = create_app(load_settings(environ={}, home=tmp_path))
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "model_not_loaded"
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/model").status_code == 503


def test_readyz_when_the_store_is_down_is_503(settings):
    from dataclasses import replace

    app = create_app(
        replace(
            settings,
            database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
        )
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "store_unavailable"
    assert "nobody" not in error["message"]


def test_revoked_key_is_refused(client, engine):
    key, info = store.create_key(engine, "https://blog.example")
    store.revoke_key(engine, info.id)
    response = client.post(
        "/v1/score", json=HAM, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 401


def test_metrics_count_requests_verdicts_and_model(client, auth, moderator):
    verdict = client.post("/v1/score", json=SPAM, headers=auth).get_json()["verdict"]
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'moderation_http_requests_total{method="POST",route="/v1/score",status="200"}'
        in text
    )
    assert "moderation_http_request_duration_seconds_bucket" in text
    assert f'moderation_verdicts_total{{surface="v1",verdict="{verdict}"}}' in text
    assert f'moderation_model_info{{version="{moderator.version}"}} 1.0' in text


def test_openapi_document_describes_every_route(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in (
        "/v1/score",
        "/v1/score/batch",
        "/v1/feedback",
        "/v1/model",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/1.1/verify-key",
        "/1.1/comment-check",
        "/1.1/submit-spam",
        "/1.1/submit-ham",
        "/1.2/usage-limit",
    ):
        assert path in doc["paths"], path
    feedback = doc["paths"]["/v1/feedback"]["post"]["responses"]
    assert "202" in feedback and "404" in feedback


def test_openapi_request_schemas_are_the_ones_routes_validate_with():
    from service import schemas

    doc = schemas.openapi(1000, "x")
    assert doc["components"]["schemas"]["ScoreRequest"] is schemas.SCORE_REQUEST
    assert doc["components"]["schemas"]["FeedbackRequest"] is schemas.FEEDBACK_REQUEST


def _request_lines(caplog) -> list[dict]:
    from service.telemetry import JsonFormatter

    formatter = JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records]
    return [line for line in lines if line.get("event") == "request"]


def test_request_log_line_has_no_key_or_text(client, auth, api_key, caplog):
    """One JSON line per request: route, status, latency, verdict and model only."""
    caplog.set_level("INFO", logger="moderation.service")
    client.post("/v1/score", json=SPAM, headers=auth)
    (line,) = _request_lines(caplog)
    assert line["route"] == "/v1/score" and line["status"] == 200
    assert {"ts", "latency_ms", "verdict", "model", "key_id"} <= set(line)
    raw = json.dumps(line)
    assert api_key not in raw and "followers.example.com" not in raw


def test_log_content_setting_adds_the_text(settings, caplog):
    from dataclasses import replace

    caplog.set_level("INFO", logger="moderation.service")
    app = create_app(replace(settings, log_content=True))
    key, _ = store.create_key(app.extensions["moderation"].engine, "https://b.example")
    app.test_client().post(
        "/v1/score", json=HAM, headers={"Authorization": f"Bearer {key}"}
    )
    (line,) = _request_lines(caplog)
    assert line["content"] == HAM["content"]


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf8"])
def test_json_with_utf8_charset_is_accepted(client, auth, charset):
    response = client.post(
        "/v1/score",
        data=json.dumps(HAM),
        content_type=f"application/json; charset={charset}",
        headers=auth,
    )
    assert response.status_code == 200


def test_checks_are_written_in_batches_off_the_request_path(app, client, auth, engine):
    """A check is queued, then stored by the background writer within the interval."""
    import time

    body = client.post("/v1/score", json=HAM, headers=auth).get_json()
    deadline = time.monotonic() + 5
    while store.find_check(engine, body["id"]) is None:
        assert time.monotonic() < deadline, "the check was never written"
        time.sleep(0.02)


def test_check_flush_zero_writes_before_answering(settings):
    from dataclasses import replace

    app = create_app(replace(settings, check_flush_ms=0))
    engine = app.extensions["moderation"].engine
    key, _ = store.create_key(engine, "https://blog.example")
    body = (
        app.test_client()
        .post("/v1/score", json=HAM, headers={"Authorization": f"Bearer {key}"})
        .get_json()
    )
    assert store.find_check(engine, body["id"]) is not None


def test_feedback_finds_a_check_queued_in_another_worker(settings, monkeypatch):
    """Feedback right after scoring works even if another process holds the check."""
    import threading

    app = create_app(settings)
    rt = app.extensions["moderation"]
    key, info = store.create_key(rt.engine, "https://blog.example")
    queued = store.CheckRecord(
        id="elsewhere",
        created_at=datetime.now(timezone.utc),
        key_id=info.id,
        site=info.site,
        model_version="v",
        verdict="spam",
        spam=0.9,
        low_value=0.1,
    )
    # The "other worker" writes its queue 30 ms from now.
    threading.Timer(0.03, store.record_check, (rt.engine, queued)).start()
    response = app.test_client().post(
        "/v1/feedback",
        json={"id": "elsewhere", "label": "ham"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 202


def test_the_library_never_imports_flask():
    """moderation/ (store and CLI included) stays free of Flask; service/ adapts it."""
    import subprocess
    import sys

    code = (
        "import sys, moderation, moderation.store, moderation.cli;"
        "import moderation.operations;"
        "sys.exit(1 if 'flask' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_wsgi_module_builds_the_app_from_the_environment(
    monkeypatch, tmp_path, models_dir
):
    import importlib
    import sys

    monkeypatch.setenv("MODERATION_HOME", str(tmp_path))
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(models_dir))
    monkeypatch.delenv("MODERATION_DATABASE_URL", raising=False)
    monkeypatch.delenv("MODERATION_CONFIG", raising=False)
    sys.modules.pop("service.wsgi", None)
    wsgi = importlib.import_module("service.wsgi")
    assert wsgi.app.test_client().get("/readyz").status_code == 200
    assert (tmp_path / "moderation.db").exists()
    sys.modules.pop("service.wsgi", None)


def test_forwarded_hops_trusts_the_proxy_for_the_client_address(settings):
    from dataclasses import replace

    app = create_app(replace(settings, forwarded_hops=1, check_flush_ms=0))
    engine = app.extensions["moderation"].engine
    key, _ = store.create_key(engine, "https://blog.example")
    response = app.test_client().post(
        "/v1/feedback",
        json={"comment": HAM, "label": "ham"},
        headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": "198.51.100.9"},
    )
    assert response.status_code == 202
    import sqlalchemy as sa

    with engine.connect() as conn:
        assert conn.execute(sa.select(store.feedback.c.ip)).scalar() == "198.51.100.9"


@pytest.mark.parametrize("name", ["check_flush_ms", "forwarded_hops"])
def test_service_settings_refuse_negative_values(name, tmp_path):
    from moderation.config import load_settings
    from moderation.errors import ConfigError

    with pytest.raises(ConfigError, match=f"MODERATION_{name.upper()}"):
        load_settings(environ={f"MODERATION_{name.upper()}": "-1"}, home=tmp_path)
