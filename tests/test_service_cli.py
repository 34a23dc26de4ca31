"""The service's commands: keys create/list/revoke and feedback export."""

from __future__ import annotations

import json

from moderation import store
from moderation.cli import cli
from moderation.comment import Label


def _create(runner, site="https://myblog.example"):
    result = runner.invoke(cli, ["keys", "create", "--site", site])
    assert result.exit_code == 0, result.output
    return result


def test_keys_create_prints_only_the_key_on_stdout(runner):
    result = _create(runner)
    assert result.stdout.endswith("\n")
    key = result.stdout.strip()
    assert len(key) == 12 and key.isalnum()
    assert "\n" not in key
    assert "shown only this once" in result.stderr


def test_keys_list_shows_ids_and_sites_never_keys(runner):
    key = _create(runner).stdout.strip()
    result = runner.invoke(cli, ["keys", "list"])
    assert result.exit_code == 0, result.output
    assert "https://myblog.example" in result.stdout and "active" in result.stdout
    assert key not in result.output
    as_json = runner.invoke(cli, ["keys", "list", "--json"])
    (row,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert row["site"] == "https://myblog.example" and row["revoked_at"] is None


def test_keys_revoke_by_key_and_by_id(runner, tmp_path):
    key1 = _create(runner).stdout.strip()
    _create(runner, "https://other.example")
    assert runner.invoke(cli, ["keys", "revoke", key1]).exit_code == 0
    engine = store.connect(f"sqlite:///{tmp_path / 'moderation.db'}")
    other = [k for k in store.list_keys(engine) if k.site == "https://other.example"][0]
    result = runner.invoke(cli, ["keys", "revoke", other.id])
    assert result.exit_code == 0, result.output
    assert all(k.revoked for k in store.list_keys(engine))
    assert "revoked" in runner.invoke(cli, ["keys", "list"]).stdout


def test_keys_revoke_unknown_is_one_line_exit_1(runner):
    result = runner.invoke(cli, ["keys", "revoke", "nothing"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: no such API key")
    assert len(result.stderr.strip().splitlines()) == 1


def test_keys_create_needs_a_site(runner):
    assert runner.invoke(cli, ["keys", "create"]).exit_code == 2


def test_unreachable_database_is_exit_1(runner, monkeypatch):
    monkeypatch.setenv(
        "MODERATION_DATABASE_URL",
        "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    )
    result = runner.invoke(cli, ["keys", "list"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_feedback_export_json_lines_with_since(runner, tmp_path):
    engine = store.connect(f"sqlite:///{tmp_path / 'moderation.db'}")
    store.record_feedback(engine, Label.SPAM, content={"content": "buy now"})
    result = runner.invoke(cli, ["feedback", "export"])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"check_id", "label", "created_at", "content"} <= set(row)
    assert row["label"] == "spam" and row["content"] == {"content": "buy now"}
    later = runner.invoke(
        cli, ["feedback", "export", "--since", "2999-01-01T00:00:00Z"]
    )
    assert later.exit_code == 0 and later.stdout == ""
    earlier = runner.invoke(cli, ["feedback", "export", "--since", "2000-01-01"])
    assert len(earlier.stdout.splitlines()) == 1


def test_feedback_export_bad_since_is_usage_error(runner):
    result = runner.invoke(cli, ["feedback", "export", "--since", "yesterday"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.output
