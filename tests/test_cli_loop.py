"""The learning loop from the command line (issue 5): retrain, models list/show/
promote/rollback, replay, and training on a WordPress export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from moderation.artifact import current_version, list_versions
from moderation.cli import cli
from tests.conftest import write_mini_corpus

WXR = Path(__file__).parent / "data" / "wordpress-export.xml"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty home with its own models directory and a small base corpus."""
    for name in (
        "MODERATION_CONFIG",
        "MODERATION_DATABASE_URL",
        "MODERATION_MODELS_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODERATION_HOME", str(tmp_path))
    base = tmp_path / "base.csv"
    write_mini_corpus(base)
    monkeypatch.setenv("MODERATION_TRAINING_DATA", str(base))
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "content,label\n"
        + "".join(
            f"Join my crypto signals group on telegram {i} for daily profit,spam\n"
            for i in range(12)
        )
        + "".join(
            f"Step {i} of the migration guide worked on Debian 12 for me,ham\n"
            for i in range(12)
        )
    )
    return tmp_path


def test_retrain_promote_list_show_rollback_and_replay(home):
    runner = CliRunner()
    models = home / "models"
    result = runner.invoke(cli, ["train"])
    assert result.exit_code == 0, result.output
    first = current_version(models)

    result = runner.invoke(cli, ["retrain", str(home / "extra.csv"), "--min-new", "10"])
    assert result.exit_code == 0, result.output
    assert "candidate" in result.output and "current" in result.output
    candidate = next(v for v in list_versions(models) if v != first)
    assert current_version(models) == first  # a candidate is not current

    listed = runner.invoke(cli, ["models", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"* {first}" in listed.output and f"  {candidate}" in listed.output

    shown = runner.invoke(cli, ["models", "show", candidate])
    assert shown.exit_code == 0 and json.loads(shown.output)["version"] == candidate

    promoted = runner.invoke(cli, ["models", "promote", candidate, "--force"])
    assert promoted.exit_code == 0, promoted.output
    assert current_version(models) == candidate
    # ...and recorded in the store, where every service instance reads it.
    from moderation.config import load_settings
    from moderation.store import connect, current_model

    assert current_model(connect(load_settings().database)) == candidate

    replayed = runner.invoke(
        cli, ["replay", str(home / "extra.csv"), "--against", first, "--json"]
    )
    assert replayed.exit_code == 0, replayed.output
    report = json.loads(replayed.output)
    assert report["model"] == candidate and report["baseline"] == first
    assert set(report["spam"]["confusion"]) == {"tp", "fp", "tn", "fn"}

    back = runner.invoke(cli, ["models", "rollback"])
    assert back.exit_code == 0, back.output
    assert current_version(models) == first


def test_retrain_with_too_little_new_data_exits_1(home):
    runner = CliRunner()
    assert runner.invoke(cli, ["train"]).exit_code == 0
    result = runner.invoke(cli, ["retrain"])
    assert result.exit_code == 1
    assert "only 0 new labelled comments" in result.output


def test_promote_an_unknown_version_exits_1_with_one_line(home):
    runner = CliRunner()
    assert runner.invoke(cli, ["train"]).exit_code == 0
    result = runner.invoke(cli, ["models", "promote", "nope"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error:") and "nope" in result.output


def test_train_on_a_wordpress_export_in_one_command(home):
    """A new site trains on its own past: WXR plus the base corpus."""
    runner = CliRunner()
    result = runner.invoke(cli, ["train", str(WXR), str(home / "base.csv")])
    assert result.exit_code == 0, result.output
    manifest = json.loads(runner.invoke(cli, ["models", "show"]).output)
    assert "wordpress-export.xml" in manifest["training_data"]["files"]
