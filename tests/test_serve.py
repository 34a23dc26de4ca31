"""``moderation serve`` as a real server process: start, answer, survive ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from moderation import store
from moderation.cli import cli


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(
    port: int,
    path: str,
    body: dict | None = None,
    key: str | None = None,
) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Server:
    """One ``moderation serve`` process group on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "moderation",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "2",
                "--threads",
                "2",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}")
            try:
                status, _ = _request(self.port, "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("server not ready in time")

    def kill_hard(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.log.close()

    def cleanup(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        if not self.log.closed:
            self.log.close()


@pytest.fixture
def serve_env(tmp_path):
    """Environment for a server whose home is empty (no model, no store yet)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATION_")}
    env.update(MODERATION_HOME=str(tmp_path / "home"), PYTHONUNBUFFERED="1")
    (tmp_path / "home").mkdir()
    return env


@pytest.fixture
def home_with_model(serve_env, tmp_path, models_dir):
    """The home holds a copy of the session model (serve then trains nothing)."""
    import shutil

    shutil.copytree(models_dir, tmp_path / "home" / "models")
    return serve_env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_feedback_survives_kill_9(home_with_model, tmp_path):
    """Feedback acknowledged with 202 is there after SIGKILL and a restart.

    The last stop is a graceful SIGTERM, which exits with code 0.
    """
    serve_env = home_with_model
    # The store is the same SQLite file the server uses (MODERATION_HOME/moderation.db).
    database = f"sqlite:///{tmp_path / 'home' / 'moderation.db'}"
    key, _ = store.create_key(store.connect(database), "https://blog.example")

    servers = []
    try:
        first = Server(serve_env, tmp_path / "server.log")
        servers.append(first)
        first.wait_ready()
        status, check = _request(
            first.port, "/v1/score", {"content": "Buy followers"}, key
        )
        assert status == 200
        status, ack = _request(
            first.port, "/v1/feedback", {"id": check["id"], "label": "ham"}, key
        )
        assert status == 202 and ack["stored"] is True
        status, ack2 = _request(
            first.port,
            "/v1/feedback",
            {"comment": {"content": "nice post"}, "label": "low_value"},
            key,
        )
        assert status == 202
        first.kill_hard()

        second = Server(serve_env, tmp_path / "server.log")
        servers.append(second)
        second.wait_ready()
        rows = list(store.export_feedback(store.connect(database)))
        assert {(r["id"], r["label"]) for r in rows} == {
            (ack["id"], "ham"),
            (ack2["id"], "low_value"),
        }
        # The check itself survived too: feedback by its id still works.
        status, _ = _request(
            second.port, "/v1/feedback", {"id": check["id"], "label": "spam"}, key
        )
        assert status == 202
        # Metrics add up the workers; the request log is JSON lines without the key.
        with urllib.request.urlopen(f"http://127.0.0.1:{second.port}/metrics") as r:
            metrics = r.read().decode()
        assert (
            'moderation_http_requests_total{method="POST",route="/v1/feedback",'
            'status="202"} 1.0' in metrics
        )
        assert "moderation_model_info{version=" in metrics
        assert second.stop() == 0
        log = (tmp_path / "server.log").read_text(encoding="utf-8")
        requests = [
            json.loads(line)
            for line in log.splitlines()
            if line.startswith("{") and '"event": "request"' in line
        ]
        assert {r["route"] for r in requests} >= {"/v1/score", "/v1/feedback"}
        assert key not in log
    finally:
        for server in servers:
            server.cleanup()


def test_serve_refuses_a_tampered_model(serve_env, tmp_path, models_dir):
    """A model that fails verification stops 'serve' with one line and exit code 1."""
    import shutil

    from moderation.artifact import current_version

    copy = tmp_path / "home" / "models"
    shutil.copytree(models_dir, copy)
    model_file = copy / current_version(copy) / "model.joblib"
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    result = _cli(serve_env, "serve", "--port", str(_free_port()))
    assert result.returncode == 1
    assert "checksum" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_trains_the_default_model_when_there_is_none(
    runner, tmp_path, monkeypatch, models_dir
):
    """With no model, serve builds one with ensure_model first, then starts gunicorn."""
    import shutil

    import moderation.operations
    import service.server

    home_models = tmp_path / "models"
    monkeypatch.setenv("MODERATION_MODELS_DIR", str(home_models))
    trained, served = [], []

    def fake_ensure_model(models, training_data, options=None, progress=None):
        trained.append((models, training_data))
        shutil.copytree(models_dir, models)
        return "mini"

    monkeypatch.setattr(moderation.operations, "ensure_model", fake_ensure_model)
    monkeypatch.setattr(
        service.server, "serve", lambda settings: served.append(settings)
    )
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    result = runner.invoke(
        cli, ["serve", "--port", "8123", "--workers", "3", "--threads", "5"]
    )
    assert result.exit_code == 0, result.output
    assert trained and trained[0][0] == home_models
    assert "training the default model" in result.output
    (settings,) = served
    assert (settings.port, settings.workers, settings.threads) == (8123, 3, 5)
    assert settings.metrics_dir is not None
    assert not settings.metrics_dir.exists()  # the temporary metrics dir is cleaned up


def test_gunicorn_options_fit_a_small_box(settings):
    from service.server import gunicorn_options

    options = gunicorn_options(settings)
    assert options["bind"] == "127.0.0.1:8000"
    assert options["worker_class"] == "gthread"
    assert (options["workers"], options["threads"]) == (2, 4)
    assert options["preload_app"] is True
