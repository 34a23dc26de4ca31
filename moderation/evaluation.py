"""Metrics for a spam-vs-not-spam score: the figures ``moderation evaluate`` prints.

Pure functions over arrays of true labels and scores. The figure that matters most is
``recall_at_fpr``: how much spam is caught while at most 1% (or 0.5%) of genuine
comments are flagged, since a false positive costs the blog a reader. This module does
not train or load models.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

__all__ = ["binary_metrics", "recall_at_fpr", "threshold_at_fpr"]


def recall_at_fpr(y_true: ArrayLike, scores: ArrayLike, max_fpr: float) -> float:
    """Share of positives caught by the best threshold that flags at most ``max_fpr``
    of the negatives (ties count against the threshold, as in practice).

    Returns ``nan`` when either class is missing.
    """
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=float)
    if y.all() or not y.any():
        return float("nan")
    threshold = threshold_at_fpr(s[~y], max_fpr)
    return float((s[y] >= threshold).mean())


def threshold_at_fpr(negative_scores: ArrayLike, max_fpr: float) -> float:
    """The lowest threshold ``t`` such that ``score >= t`` flags at most ``max_fpr`` of
    the given negative scores.

    Args:
        negative_scores: scores of the negatives (genuine comments).
        max_fpr: largest tolerated share of negatives at or above the threshold.

    Returns:
        The threshold (just above a negative score, so that one is not flagged).
    """
    s = np.sort(np.asarray(negative_scores, dtype=float))[::-1]
    if s.size == 0:
        return 0.0
    allowed = int(np.floor(max_fpr * s.size + 1e-9))
    if allowed >= s.size:
        return 0.0
    return float(np.nextafter(s[allowed], np.inf))


def binary_metrics(
    y_true: ArrayLike, scores: ArrayLike, threshold: float
) -> dict[str, Any]:
    """The contract's evaluation figures for one question.

    Args:
        y_true: 1 for the positive class (spam), 0 otherwise.
        scores: the model's probability of the positive class.
        threshold: scores at or above it count as flagged.

    Returns:
        ``n, accuracy, precision, recall, f1, mcc, roc_auc, recall_at_1pct_fpr, fpr``
        and ``confusion`` (``tp, fp, tn, fn``); undefined figures are ``None``.
    """
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=float)
    flagged = s >= threshold
    tp = int((flagged & y).sum())
    fp = int((flagged & ~y).sum())
    tn = int((~flagged & ~y).sum())
    fn = int((~flagged & y).sum())
    both = bool(y.any() and not y.all())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "n": int(y.size),
        "accuracy": (tp + tn) / y.size if y.size else None,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "mcc": _mcc(tp, fp, tn, fn) if both else None,
        "roc_auc": float(roc_auc_score(y, s)) if both else None,
        "recall_at_1pct_fpr": recall_at_fpr(y, s, 0.01) if both else None,
        "fpr": fp / (fp + tn) if fp + tn else None,
        "threshold": float(threshold),
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
    }


def _mcc(tp: int, fp: int, tn: int, fn: int) -> float:
    # Matthews correlation from the confusion counts; 0 when a margin is empty (a
    # threshold that flags everything or nothing), the usual convention.
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denominator if denominator else 0.0
