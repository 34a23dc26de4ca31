"""Training: determinism, the optional low-value question, data checks, thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from moderation.comment import Comment, Label
from moderation.errors import DataError
from moderation.training import (
    TrainingOptions,
    choose_thresholds,
    comments_frame,
    train,
)

MINI = TrainingOptions(folds=3, C_grid=(10.0,), n_jobs=1)


def _without(corpus, label):
    comments, labels = corpus
    kept = [
        (c, lab) for c, lab in zip(comments, labels, strict=True) if lab is not label
    ]
    return [c for c, _ in kept], [lab for _, lab in kept]


def test_same_data_and_seed_give_identical_probabilities(corpus, trained_model):
    comments, labels = corpus
    again = train(comments, labels, options=MINI)
    X = comments_frame(comments + [Comment("never seen before, zxqv"), Comment("")])
    np.testing.assert_array_equal(
        again.spam.predict_proba(X), trained_model.spam.predict_proba(X)
    )
    np.testing.assert_array_equal(
        again.low_value.predict_proba(X), trained_model.low_value.predict_proba(X)
    )
    assert again.thresholds == trained_model.thresholds
    assert again.metrics == trained_model.metrics


def test_session_model_answers_both_questions(trained_model):
    assert trained_model.low_value is not None
    assert trained_model.thresholds.low_value is not None
    assert set(trained_model.metrics) == {"spam", "low_value"}
    assert trained_model.counts == {"spam": 20, "low_value": 15, "ham": 20}


def test_spam_and_ham_only_trains_the_spam_question_alone(corpus):
    comments, labels = _without(corpus, Label.LOW_VALUE)
    model = train(comments, labels, options=MINI)
    assert model.low_value is None
    assert model.thresholds.low_value is None
    assert set(model.metrics) == {"spam"}
    assert set(model.params) == {"spam"}
    assert model.counts == {"spam": 20, "low_value": 0, "ham": 20}
    X = comments_frame(comments[:3])
    assert model.spam.predict_proba(X).shape == (3, 2)


def test_too_few_low_value_examples_skip_the_low_value_question(corpus):
    comments, labels = corpus
    keep = [
        i for i, lab in enumerate(labels) if lab is not Label.LOW_VALUE or i % 3 == 0
    ]
    model = train([comments[i] for i in keep], [labels[i] for i in keep], options=MINI)
    assert model.low_value is None
    assert model.thresholds.low_value is None


def test_too_few_spam_examples_is_a_data_error_saying_what_is_needed(corpus):
    comments, labels = corpus
    keep = [i for i, lab in enumerate(labels) if lab is not Label.SPAM or i < 5]
    with pytest.raises(DataError) as info:
        train([comments[i] for i in keep], [labels[i] for i in keep], options=MINI)
    message = str(info.value)
    assert "at least 10 'spam'" in message
    assert "found 5 and 35" in message


def test_no_genuine_comments_is_a_data_error(corpus):
    comments, labels = corpus
    spam = [c for c, lab in zip(comments, labels, strict=True) if lab is Label.SPAM]
    with pytest.raises(DataError, match="'not spam'.*found 20 and 0"):
        train(spam, [Label.SPAM] * len(spam), options=MINI)


def test_progress_reports_each_step(corpus):
    comments, labels = corpus
    steps: list[str] = []
    train(comments, labels, options=MINI, progress=steps.append)
    assert steps == [
        "spam: cross-validating",
        "spam: fitting the final model",
        "low value: cross-validating",
        "low value: fitting the final model",
    ]


# choose_thresholds on synthetic held-out scores: 200 genuine comments spread evenly
# over [0, 0.995] and a few spam near the top.
NEG = np.arange(200) / 200
SCORES = np.concatenate([NEG, [0.97, 0.99, 1.0]])
Y = np.array([False] * 200 + [True] * 3)
OPTIONS = TrainingOptions(target_fpr=0.005, hold_fpr=0.02, discard_floor=0.9)


def _fpr(threshold: float | None, negatives: np.ndarray) -> float:
    return float(np.mean(negatives >= threshold))


def test_spam_threshold_respects_the_target_fpr_and_is_the_lowest_that_does():
    t = choose_thresholds(Y, SCORES, OPTIONS)
    assert _fpr(t.spam, NEG) <= OPTIONS.target_fpr  # 1 of 200
    assert _fpr(math.nextafter(t.spam, -math.inf), NEG) > OPTIONS.target_fpr
    assert t.spam == math.nextafter(0.99, math.inf)


def test_hold_threshold_respects_the_hold_fpr_and_stays_below_spam():
    t = choose_thresholds(Y, SCORES, OPTIONS)
    assert _fpr(t.hold, NEG) <= OPTIONS.hold_fpr  # 4 of 200
    assert _fpr(math.nextafter(t.hold, -math.inf), NEG) > OPTIONS.hold_fpr
    assert t.hold <= t.spam


def test_discard_is_above_every_negative_and_the_floor():
    t = choose_thresholds(Y, SCORES, OPTIONS)
    assert t.discard is not None
    assert t.discard > NEG.max()
    assert t.discard >= OPTIONS.discard_floor
    assert t.discard >= t.spam


def test_spam_threshold_never_below_one_half():
    """Genuine comments all score low: the FPR would allow any threshold; spam stays
    at 0.5 and discard at its floor."""
    negatives = np.linspace(0.0, 0.2, 100)
    y = np.array([False] * 100 + [True] * 5)
    t = choose_thresholds(y, np.concatenate([negatives, [0.9] * 5]), OPTIONS)
    assert t.spam == 0.5
    assert t.hold <= 0.5
    assert t.discard == OPTIONS.discard_floor


def test_discard_is_off_when_a_genuine_comment_scored_one():
    negatives = np.concatenate([np.linspace(0.0, 0.5, 99), [1.0]])
    y = np.array([False] * 100 + [True] * 5)
    t = choose_thresholds(y, np.concatenate([negatives, [1.0] * 5]), OPTIONS)
    assert t.discard is None
    assert 0.5 <= t.spam <= 1.0


def test_chosen_thresholds_of_the_session_model_are_valid(trained_model):
    t = trained_model.thresholds
    assert 0.0 <= t.hold <= t.spam <= 1.0
    assert t.discard is None or t.spam <= t.discard <= 1.0
    assert t.low_value is not None and 0.5 <= t.low_value <= 1.0
