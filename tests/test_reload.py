"""Hot reload and the whole learning loop (issue 5): a promoted model is picked up by
running workers within seconds, without failing a request; a model that fails to load
is refused while the old one keeps serving."""

from __future__ import annotations

import random
import shutil
import threading
import time
import urllib.parse
import urllib.request

import pytest

from moderation.artifact import save_model, set_current
from moderation.config import load_settings
from moderation.training import train
from tests.conftest import (
    LINK_SPAM,
    MINI_OPTIONS,
    REAL_READERS,
    write_mini_corpus,
)
from tests.test_serve import Server, _cli, _request


@pytest.fixture
def reloading_app(tmp_path, models_dir):
    """An app over its own copy of the session model, looking for promotions often."""
    from service import create_app

    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    settings = load_settings(
        environ={}, home=tmp_path, models_dir=models, reload_seconds=0.05
    )
    return create_app(settings), models


def _poll(client, auth, until, timeout=10.0):
    """Score until ``until(response json)`` holds; every response must be a 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.post(
            "/v1/score", json={"content": "Thanks, this fixed my build."}, headers=auth
        )
        assert response.status_code == 200, response.get_json()
        if until(response.get_json()):
            return response.get_json()
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def reload_client(reloading_app):
    from moderation.store import create_key

    app, models = reloading_app
    key, _ = create_key(app.extensions["moderation"].engine, "https://blog.example")
    return app.test_client(), {"Authorization": f"Bearer {key}"}, models


def test_a_promoted_model_is_served_without_a_restart(reload_client, corpus):
    client, auth, models = reload_client
    before = _poll(client, auth, lambda body: True)["model"]
    comments, labels = corpus
    fresh = save_model(
        train(comments, labels, options=MINI_OPTIONS),
        models,
        {"sha256": "1" * 64},
        make_current=False,
    )
    set_current(models, fresh.name)
    after = _poll(client, auth, lambda body: body["model"] == fresh.name)
    assert after["model"] != before


def test_a_model_that_fails_verification_is_refused_and_the_old_one_serves(
    reload_client, corpus
):
    client, auth, models = reload_client
    before = _poll(client, auth, lambda body: True)["model"]
    comments, labels = corpus
    broken = save_model(
        train(comments, labels, options=MINI_OPTIONS),
        models,
        {"sha256": "2" * 64},
        make_current=False,
    )
    with (broken / "model.joblib").open("r+b") as fh:
        fh.seek(64)
        fh.write(b"tampered")
    set_current(models, broken.name)  # as if someone bypassed `models promote`
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        if "reload_error" in ready.get_json():
            break
        time.sleep(0.05)
    body = ready.get_json()
    assert broken.name in body["reload_error"] and "checksum" in body["reload_error"]
    assert _poll(client, auth, lambda b: True)["model"] == before


def _form(port, path, fields):
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read().decode()


CAMPAIGN = (
    "Our study circle shares the exam notes in a telegram group, "
    "ask Dana for the invite"
)


def test_feedback_retrain_promote_and_the_service_calls_it_spam(tmp_path, models_dir):
    """End to end, as an admin would: a comment the model approves is reported as spam
    (Akismet submit-spam and /v1/feedback, with a campaign of similar ones), retrain,
    promote, and the running service calls it spam without a restart, with zero failed
    requests under concurrent load during the switch."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copytree(models_dir, home / "models")
    base = tmp_path / "base.csv"
    write_mini_corpus(base)
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(
        MODERATION_HOME=str(home),
        MODERATION_TRAINING_DATA=str(base),
        MODERATION_RETAIN_CONTENT="true",
        MODERATION_RELOAD_SECONDS="0.5",
        PYTHONUNBUFFERED="1",
    )
    key = _cli(env, "keys", "create", "--site", "https://blog.example").stdout.strip()
    server = Server(env, tmp_path / "server.log")
    try:
        server.wait_ready()
        status, first = _request(server.port, "/v1/score", {"content": CAMPAIGN}, key)
        assert status == 200 and first["verdict"] == "approve", first

        status, body = _form(
            server.port,
            "/1.1/submit-spam",
            {
                "api_key": key,
                "blog": "https://blog.example",
                "user_ip": "198.51.100.4",
                "comment_content": CAMPAIGN,
                "comment_type": "comment",
            },
        )
        assert (status, body) == (200, "Thanks for making the web a better place.")
        rng = random.Random(0)
        names = ["Dana", "Sam", "Lee"]
        subjects = [
            "exam notes",
            "answer keys",
            "lab reports",
            "essay drafts",
            "past papers",
        ]
        for i in range(24):
            text = (
                f"Our {rng.choice(['study', 'revision', 'reading'])} circle shares the "
                f"{rng.choice(subjects)} in a telegram group, ask {rng.choice(names)} "
                f"for the invite {i}"
            )
            status, _ = _request(
                server.port,
                "/v1/feedback",
                {"comment": {"content": text}, "label": "spam"},
                key,
            )
            assert status == 202
        for text in REAL_READERS[:10]:
            status, _ = _request(
                server.port,
                "/v1/feedback",
                {"comment": {"content": text + " (again)"}, "label": "ham"},
                key,
            )
            assert status == 202

        failures: list[object] = []
        done = threading.Event()

        def load() -> None:
            texts = REAL_READERS + LINK_SPAM
            while not done.is_set():
                try:
                    status, _ = _request(
                        server.port, "/v1/score", {"content": rng.choice(texts)}, key
                    )
                    if status != 200:
                        failures.append(status)
                except OSError as exc:
                    failures.append(exc)

        workers = [threading.Thread(target=load) for _ in range(3)]
        for w in workers:
            w.start()
        retrained = _cli(env, "retrain", "--min-new", "10", "--max-share", "1")
        assert retrained.returncode == 0, retrained.stderr
        candidate = retrained.stdout.split("candidate ", 1)[1].split()[0]
        # The guard's judgement is tested on its own; here the admin promotes.
        promoted = _cli(env, "models", "promote", candidate, "--force")
        assert promoted.returncode == 0, promoted.stderr
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status, now = _request(server.port, "/v1/score", {"content": CAMPAIGN}, key)
            if now.get("model") == candidate:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # let every worker look once more under load
        done.set()
        for w in workers:
            w.join(timeout=30)
        assert now["model"] == candidate
        assert now["verdict"] in ("spam", "discard"), now
        assert failures == []
    finally:
        server.cleanup()


def test_instances_follow_the_store_registry(reload_client, corpus):
    """A version recorded in the store (by another instance's promotion) is served
    here too, even though this instance's CURRENT file still names the old one."""
    from moderation.store import current_model, set_current_model

    client, auth, models = reload_client
    app_engine = client.application.extensions["moderation"].engine
    comments, labels = corpus
    other = save_model(
        train(comments, labels, options=MINI_OPTIONS),
        models,
        {"sha256": "3" * 64},
        make_current=False,
    )
    set_current_model(app_engine, other.name)
    assert current_model(app_engine) == other.name
    _poll(client, auth, lambda body: body["model"] == other.name)
