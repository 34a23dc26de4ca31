"""Shadow mode (issue 5): a candidate scores every live comment too, off the request
path; both verdicts are stored, bounded, and `moderation models compare` reports."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from moderation.artifact import save_model
from moderation.cli import cli
from moderation.comment import Label
from moderation.config import load_settings
from moderation.store import ShadowRecord, compare_shadow, create_key, record_shadow
from moderation.training import train
from tests.conftest import LINK_SPAM, MINI_OPTIONS, REAL_READERS


def test_live_comments_are_scored_by_the_shadow_model_and_compared(
    tmp_path, models_dir, corpus, monkeypatch
):
    from service import create_app

    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    comments, labels = corpus
    # A deliberately different candidate: every label flipped, so verdicts disagree.
    flipped = [Label.HAM if label is Label.SPAM else Label.SPAM for label in labels]
    candidate = save_model(
        train(comments, flipped, options=MINI_OPTIONS),
        models,
        {"sha256": "9" * 64},
        make_current=False,
    )
    settings = load_settings(
        environ={},
        home=tmp_path,
        models_dir=models,
        shadow_model=candidate.name,
        retain_content=True,
    )
    app = create_app(settings)
    rt = app.extensions["moderation"]
    assert rt.shadow is not None and rt.shadow.moderator.version == candidate.name
    key, _ = create_key(rt.engine, "https://blog.example")
    client = app.test_client()
    texts = LINK_SPAM[:5] + REAL_READERS[:5]
    live = {}
    for text in texts:
        response = client.post(
            "/v1/score",
            json={"content": text},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 200
        live[response.get_json()["id"]] = response.get_json()
    rt.shadow.drain()

    report = compare_shadow(rt.engine)
    assert report["shadow_model"] == candidate.name and report["n"] == len(texts)
    assert report["agreement"] < 1.0 and report["disagreements"]
    for d in report["disagreements"]:
        assert live[d["check_id"]]["verdict"] == d["live_verdict"]
        assert d["content"]["content"] in texts

    monkeypatch.setenv("MODERATION_HOME", str(tmp_path))
    monkeypatch.delenv("MODERATION_DATABASE_URL", raising=False)
    out = CliRunner().invoke(cli, ["models", "compare", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["n"] == len(texts)
    human = CliRunner().invoke(cli, ["models", "compare"])
    assert human.exit_code == 0 and "same verdict" in human.output


def test_shadow_storage_is_bounded(engine):
    from datetime import datetime, timedelta, timezone

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    records = [
        ShadowRecord(
            f"c{i}",
            start + timedelta(seconds=i),
            None,
            "live",
            "cand",
            "approve",
            "spam",
            0.1,
            0.9,
        )
        for i in range(30)
    ]
    record_shadow(engine, records, max_rows=10)
    report = compare_shadow(engine, "cand", limit=100)
    assert report["n"] == 10
    assert {d["check_id"] for d in report["disagreements"]} == {
        f"c{i}" for i in range(20, 30)
    }


def test_compare_without_shadow_verdicts_says_how_to_collect_them(runner):
    result = runner.invoke(cli, ["models", "compare"])
    assert result.exit_code == 1
    assert "MODERATION_SHADOW_MODEL" in result.output
