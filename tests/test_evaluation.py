"""Evaluation figures on small examples computed by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from moderation.evaluation import binary_metrics, recall_at_fpr, threshold_at_fpr

# Three spam, four genuine.
Y = [1, 1, 1, 0, 0, 0, 0]
S = [0.9, 0.6, 0.3, 0.8, 0.4, 0.2, 0.1]
NEGATIVES = [0.8, 0.4, 0.2, 0.1]


@pytest.mark.parametrize(
    ("max_fpr", "flags_above"),
    [
        (0.0, 0.8),  # no negative may be flagged: just above the highest
        (0.24, 0.8),  # 0.24 of 4 negatives is 0.96: still none
        (0.25, 0.4),  # one negative (0.8) may be flagged
        (0.5, 0.2),  # two (0.8, 0.4)
    ],
)
def test_threshold_at_fpr_is_just_above_the_first_negative_not_allowed(
    max_fpr, flags_above
):
    t = threshold_at_fpr(NEGATIVES, max_fpr)
    assert t == math.nextafter(flags_above, math.inf)
    assert np.mean(np.asarray(NEGATIVES) >= t) <= max_fpr


def test_threshold_at_fpr_allowing_every_negative_is_zero():
    assert threshold_at_fpr(NEGATIVES, 1.0) == 0.0


def test_threshold_at_fpr_without_negatives_is_zero():
    assert threshold_at_fpr([], 0.01) == 0.0


def test_threshold_at_fpr_ties_count_against_the_threshold():
    """Two negatives tie at 0.5: allowing one means flagging neither."""
    t = threshold_at_fpr([0.5, 0.5, 0.1, 0.1], 0.25)
    assert t > 0.5
    assert t == math.nextafter(0.5, math.inf)


@pytest.mark.parametrize("max_fpr", [0.07, 0.29, 0.57])
def test_threshold_at_fpr_survives_floating_point_shares(max_fpr):
    """0.29 * 100 is 28.999999999999996 in floating point, yet 29 may be flagged."""
    negatives = np.arange(100) / 100
    t = threshold_at_fpr(negatives, max_fpr)
    assert int((negatives >= t).sum()) == round(max_fpr * 100)


@pytest.mark.parametrize(
    ("max_fpr", "recall"),
    [(0.0, 1 / 3), (0.25, 2 / 3), (0.5, 1.0), (1.0, 1.0)],
)
def test_recall_at_fpr_by_hand(max_fpr, recall):
    assert recall_at_fpr(Y, S, max_fpr) == pytest.approx(recall)


def test_recall_at_fpr_with_one_class_is_nan():
    assert math.isnan(recall_at_fpr([1, 1], [0.2, 0.9], 0.01))
    assert math.isnan(recall_at_fpr([0, 0], [0.2, 0.9], 0.01))


def test_binary_metrics_by_hand():
    m = binary_metrics(Y, S, 0.5)
    # Flagged at 0.5: 0.9 and 0.6 (spam), 0.8 (genuine).
    assert m["confusion"] == {"tp": 2, "fp": 1, "tn": 3, "fn": 1}
    assert m["n"] == 7
    assert m["accuracy"] == pytest.approx(5 / 7)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["fpr"] == pytest.approx(1 / 4)
    # (tp*tn - fp*fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = 5 / 12
    assert m["mcc"] == pytest.approx(5 / 12)
    # 9 of the 12 (spam, genuine) pairs are ordered correctly.
    assert m["roc_auc"] == pytest.approx(9 / 12)
    assert m["recall_at_1pct_fpr"] == pytest.approx(1 / 3)
    assert m["threshold"] == 0.5


def test_binary_metrics_threshold_is_inclusive():
    m = binary_metrics([1, 0], [0.5, 0.49], 0.5)
    assert m["confusion"] == {"tp": 1, "fp": 0, "tn": 1, "fn": 0}


def test_binary_metrics_undefined_figures_are_none():
    """Only genuine comments and none flagged (a per-file breakdown of a clean file):
    no precision, recall, MCC or AUC, and no warning from scikit-learn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = binary_metrics([0, 0, 0], [0.1, 0.2, 0.3], 0.5)
    assert m["confusion"] == {"tp": 0, "fp": 0, "tn": 3, "fn": 0}
    assert m["precision"] is None
    assert m["recall"] is None
    assert m["f1"] is None
    assert m["mcc"] is None  # 0 / 0: every prediction and every label is one class
    assert m["roc_auc"] is None
    assert m["recall_at_1pct_fpr"] is None
    assert m["fpr"] == 0.0


def test_binary_metrics_of_nothing():
    m = binary_metrics([], [], 0.5)
    assert m["n"] == 0
    assert m["accuracy"] is None
    assert m["confusion"] == {"tp": 0, "fp": 0, "tn": 0, "fn": 0}
