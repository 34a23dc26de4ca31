"""The learning loop's core: feedback rules, the retrain candidate, the promotion guard,
rollback and refusal of a corrupt candidate (issue 5)."""

from __future__ import annotations

import shutil

import pytest

from moderation.artifact import current_version, list_versions, save_model
from moderation.comment import Label
from moderation.errors import ArtifactError, DataError
from moderation.retraining import feedback_data, promote, retrain, rollback
from moderation.training import train
from tests.conftest import (
    MINI_OPTIONS,
    write_mini_corpus,
)


def row(text, label, check=None, key="k1", ip=None):
    return {
        "check_id": check,
        "label": label,
        "content": {"content": text},
        "key_id": key,
        "ip": ip,
    }


def test_latest_label_per_check_wins():
    data, report = feedback_data(
        [row("buy pills now", "ham", "c1"), row("buy pills now", "spam", "c1")],
        max_share=1.0,
    )
    assert [label.value for label in data.labels] == ["spam"]
    assert report.superseded == 1


def test_conflicting_labels_for_one_text_are_reported_and_left_out():
    data, report = feedback_data(
        [
            row("Nice fix for cron", "ham", "c1"),
            row("nice fix for cron", "spam", "c2"),
            row("other text", "ham", "c3"),
        ],
        max_share=1.0,
    )
    assert report.conflicting_texts == ["nice fix for cron"]
    assert [c.content for c in data.comments] == ["other text"]


def test_one_key_cannot_flood_the_labels():
    rows = [
        row(f"spam text number {i}", "spam", f"a{i}", key="flood") for i in range(8)
    ]
    rows += [
        row(f"genuine reader {i}", "ham", f"b{i}", key=f"site{i}") for i in range(2)
    ]
    data, report = feedback_data(rows, max_share=0.3)
    assert report.capped_sources == {"flood": 5}
    assert data.labels.count(Label.SPAM) == 3


def test_rows_without_content_are_counted_not_used():
    data, report = feedback_data([{"check_id": "x", "label": "spam"}], max_share=1.0)
    assert len(data) == 0 and report.without_content == 1


@pytest.fixture
def base(tmp_path):
    """A base corpus file from the mini-corpora."""
    path = tmp_path / "base.csv"
    write_mini_corpus(path)
    return path


@pytest.fixture
def extra(tmp_path):
    path = tmp_path / "new.csv"
    new_spam = [
        f"Join my crypto signals group on telegram number {i} for profit"
        for i in range(12)
    ]
    new_ham = [
        f"The step {i} of the migration guide worked on Debian 12 for me"
        for i in range(12)
    ]
    path.write_text(
        "content,label\n"
        + "".join(f"{t},spam\n" for t in new_spam)
        + "".join(f"{t},ham\n" for t in new_ham)
    )
    return path


def test_retrain_refuses_too_little_new_data(tmp_path, base):
    with pytest.raises(DataError, match="only 0 new labelled comments"):
        retrain(
            tmp_path / "models",
            [base],
            feedback_data([], 1.0)[0],
            options=MINI_OPTIONS,
            min_new=20,
        )


def test_retrain_writes_a_candidate_that_is_not_current(tmp_path, base, extra, corpus):
    models = tmp_path / "models"
    first = save_model(
        train(*corpus, options=MINI_OPTIONS), models, {"sha256": "a" * 64}
    )
    result = retrain(
        models,
        [base],
        feedback_data([], 1.0)[0],
        extra=[extra],
        options=MINI_OPTIONS,
        min_new=20,
    )
    assert current_version(models) == first.name
    assert result.candidate.name in list_versions(models)
    assert (result.candidate / "holdout.jsonl").exists()
    assert result.current_metrics is not None and result.holdout > 0


def test_promotion_guard_refuses_a_worse_candidate_unless_forced(
    tmp_path, base, extra, corpus
):
    models = tmp_path / "models"
    save_model(train(*corpus, options=MINI_OPTIONS), models, {"sha256": "b" * 64})
    result = retrain(
        models,
        [base],
        feedback_data([], 1.0)[0],
        extra=[extra],
        options=MINI_OPTIONS,
        min_new=20,
    )
    # Make the current model a much better one: trained on everything incl. holdout.
    good = result.candidate.parent / current_version(models)
    # A deliberately worse candidate: every label flipped.
    comments, labels = corpus
    flipped = [Label.HAM if label is Label.SPAM else Label.SPAM for label in labels]
    worse = save_model(
        train(comments, flipped, options=MINI_OPTIONS),
        models,
        {"sha256": "c" * 64},
        make_current=False,
    )
    shutil.copy(result.candidate / "holdout.jsonl", worse / "holdout.jsonl")
    with pytest.raises(ArtifactError, match="worse than the current model.*--force"):
        promote(models, worse.name)
    assert current_version(models) == good.name
    promote(models, worse.name, force=True)
    assert current_version(models) == worse.name
    assert rollback(models) == good.name
    assert current_version(models) == good.name


def test_a_corrupt_candidate_is_refused_and_the_current_model_stays(tmp_path, corpus):
    models = tmp_path / "models"
    current = save_model(
        train(*corpus, options=MINI_OPTIONS), models, {"sha256": "d" * 64}
    )
    candidate = save_model(
        train(*corpus, options=MINI_OPTIONS),
        models,
        {"sha256": "e" * 64},
        make_current=False,
    )
    with (candidate / "model.joblib").open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\x00\x01\x02")
    with pytest.raises(ArtifactError, match="checksum"):
        promote(models, candidate.name, force=True)
    assert current_version(models) == current.name


def test_rollback_without_history_says_so(tmp_path, corpus):
    models = tmp_path / "models"
    save_model(train(*corpus, options=MINI_OPTIONS), models, {"sha256": "f" * 64})
    with pytest.raises(ArtifactError, match="no earlier model version"):
        rollback(models)
