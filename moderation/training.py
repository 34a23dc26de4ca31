"""Training: choose hyper-parameters by cross-validation, fit, choose thresholds.

``train`` takes labelled comments and returns a ``TrainedModel``: one fitted pipeline
per question (spam; and low-value among the non-spam, when the data has that label),
the policy thresholds chosen on held-out folds, and cross-validated metrics. Folds are
stratified and keep exact duplicate texts together, so copies of one spam never sit on
both sides of a split. Seeds are fixed: the same data gives the same model.

This module does not read files (``dataset``), write artifacts (``artifact``) or score
single comments (``scorer``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from moderation.comment import Comment, Label
from moderation.errors import DataError
from moderation.evaluation import binary_metrics, threshold_at_fpr
from moderation.features import HISTORY_COLUMNS, METADATA_COLUMNS, METADATA_PRIORS
from moderation.pipeline import DEFAULT_PARAMS, build_pipeline
from moderation.policy import Thresholds
from moderation.text import normalise

__all__ = [
    "C_GRID",
    "TrainedModel",
    "TrainingOptions",
    "choose_thresholds",
    "comments_frame",
    "train",
]

C_GRID = (3.0, 10.0, 30.0)
_MIN_PER_CLASS = 10
_TOP_NEGATIVES = 500  # enough for a target FPR up to 500 / (genuine comments)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingOptions:
    """Choices made at training time and stored in the manifest.

    Attributes:
        target_fpr: largest share of genuine comments the spam threshold may flag on
            held-out folds.
        hold_fpr: largest share of genuine comments held as "unsure".
        low_value_fpr: largest share of genuine (ham) comments held as low-value.
        discard_floor: discard needs at least this spam score, on top of 100% held-out
            precision.
        folds: cross-validation folds, for hyper-parameters and thresholds.
        seed: seed for folds and solvers.
        C_grid: candidate regularisation strengths.
        n_jobs: folds fitted in parallel (joblib; -1 = every core).
    """

    target_fpr: float = 0.005
    hold_fpr: float = 0.02
    low_value_fpr: float = 0.05
    discard_floor: float = 0.9
    folds: int = 5
    seed: int = 0
    C_grid: tuple[float, ...] = C_GRID
    n_jobs: int = -1


@dataclass
class TrainedModel:
    """The result of ``train``: what ``artifact.save_model`` writes."""

    spam: Pipeline
    low_value: Pipeline | None
    thresholds: Thresholds
    params: dict[str, Any]
    metrics: dict[str, Any]
    options: TrainingOptions
    counts: dict[str, int] = field(default_factory=dict)
    priors: dict[str, list[str]] = field(default_factory=dict)
    held_out: dict[str, Any] = field(default_factory=dict)


def comments_frame(comments: Sequence[Comment]) -> pd.DataFrame:
    """The pipeline's input: one row per comment, the columns of ``Comment.to_row``
    plus the history columns (empty: recent history exists only when serving)."""
    frame = pd.DataFrame([c.to_row() for c in comments])
    for column in HISTORY_COLUMNS:
        frame[column] = None
    return frame


def apply_priors(pipeline: Pipeline, X: pd.DataFrame, question: str) -> list[str]:
    """Give each metadata signal that ``X`` never exercised its prior weight.

    A signal that is 0 on every training comment gets coefficient 0 from the fit, so
    the model would ignore it forever; its documented prior (``METADATA_PRIORS``) is
    written into the fitted coefficient instead. Scores of the training comments do
    not change (the signal is 0 on all of them).

    Returns:
        The names of the signals that received their prior.
    """
    priors = METADATA_PRIORS.get(question, {})
    features = pipeline.named_steps["features"]
    block = features.named_transformers_["metadata"]
    # The metadata block is the last one: its coefficients are the final columns.
    width = len(block.get_feature_names_out())
    offset = len(features.get_feature_names_out()) - width
    weight = (features.transformer_weights or {}).get("metadata", 1.0)
    values = block.transform(X[list(METADATA_COLUMNS)])
    estimator = pipeline.named_steps["classifier"].calibrated_classifiers_[0].estimator
    applied = []
    for j, name in enumerate(block.get_feature_names_out()):
        if name in priors and not np.any(values[:, j]):
            # The block's features are multiplied by its transformer weight.
            estimator.coef_[0, offset + j] = priors[name] / weight
            applied.append(name)
    return applied


def train(
    comments: Sequence[Comment],
    labels: Sequence[Label],
    options: TrainingOptions | None = None,
    progress: Progress | None = None,
) -> TrainedModel:
    """Fit the spam (and, when labelled, low-value) model and choose its thresholds.

    Args:
        comments: the training comments.
        labels: one ``Label`` per comment.
        options: training choices; defaults as in ``TrainingOptions``.
        progress: called with a short description as each step starts.

    Returns:
        The ``TrainedModel``.

    Raises:
        DataError: too few comments of a class to learn and validate on.
    """
    options = options or TrainingOptions()
    say = progress or (lambda _step: None)
    X = comments_frame(comments)
    labels = list(labels)
    y_spam = np.array([label is Label.SPAM for label in labels])
    _require_classes(y_spam, "spam", "not spam")
    groups = _duplicate_groups(X["content"])

    say("spam: cross-validating")
    spam_params, spam_decisions = _cross_validate(X, y_spam, groups, options)
    say("spam: fitting the final model")
    spam_model = build_pipeline(**spam_params).fit(X, y_spam)
    spam_priors = apply_priors(spam_model, X, "spam")
    spam_oof = _calibrated(spam_model, spam_decisions)

    thresholds = choose_thresholds(y_spam, spam_oof, options)
    # The top of the held-out genuine scores lets a site ask for another target FPR
    # later (``spam_threshold_at``) without retraining.
    negatives = np.sort(spam_oof[~y_spam])[::-1]
    held_out = {
        "negatives": int(negatives.size),
        "top_negative_spam_scores": [float(v) for v in negatives[:_TOP_NEGATIVES]],
    }
    metrics: dict[str, Any] = {
        "spam": binary_metrics(y_spam, spam_oof, thresholds.spam)
    }

    low_value_model = None
    not_spam = ~y_spam
    y_low = np.array([label is Label.LOW_VALUE for label in labels])[not_spam]
    params: dict[str, Any] = {"spam": spam_params}
    priors = {"spam": spam_priors}
    if y_low.sum() >= _MIN_PER_CLASS and (~y_low).sum() >= _MIN_PER_CLASS:
        X_ns = X[not_spam].reset_index(drop=True)
        groups_ns = groups[not_spam]
        say("low value: cross-validating")
        low_params, low_decisions = _cross_validate(X_ns, y_low, groups_ns, options)
        say("low value: fitting the final model")
        low_value_model = build_pipeline(**low_params).fit(X_ns, y_low)
        priors["low_value"] = apply_priors(low_value_model, X_ns, "low_value")
        low_oof = _calibrated(low_value_model, low_decisions)
        low_threshold = max(
            0.5, threshold_at_fpr(low_oof[~y_low], options.low_value_fpr)
        )
        thresholds = Thresholds(
            hold=thresholds.hold,
            spam=thresholds.spam,
            discard=thresholds.discard,
            low_value=min(low_threshold, 1.0),
        )
        metrics["low_value"] = binary_metrics(
            y_low, low_oof, thresholds.low_value or 1.0
        )
        params["low_value"] = low_params

    counts = {label.value: labels.count(label) for label in Label}
    return TrainedModel(
        spam=spam_model,
        low_value=low_value_model,
        thresholds=thresholds,
        params=params,
        metrics=metrics,
        options=options,
        counts=counts,
        priors=priors,
        held_out=held_out,
    )


def choose_thresholds(
    y_spam: np.ndarray, spam_scores: np.ndarray, options: TrainingOptions
) -> Thresholds:
    """Spam thresholds from held-out scores.

    - spam: flags at most ``target_fpr`` of the held-out genuine comments, and never
      below 0.5 (a probability under one half is not called spam);
    - hold: flags at most ``hold_fpr`` of them, and never above spam;
    - discard: above every held-out genuine comment (100% held-out precision) and at
      least ``discard_floor``; off when no such score exists.
    """
    negatives = spam_scores[~y_spam]
    spam = min(1.0, max(0.5, threshold_at_fpr(negatives, options.target_fpr)))
    hold = min(spam, threshold_at_fpr(negatives, options.hold_fpr))
    discard: float | None = max(
        spam, options.discard_floor, float(np.nextafter(negatives.max(), np.inf))
    )
    if discard is not None and discard > 1.0:
        discard = None
    return Thresholds(hold=hold, spam=spam, discard=discard)


def spam_threshold_at(held_out: dict[str, Any], target_fpr: float) -> float | None:
    """The spam threshold for another target FPR, from a manifest's ``held_out``.

    Same rule as ``choose_thresholds`` (never below 0.5). ``None`` when the stored top
    of the held-out scores is too short for so large a target.
    """
    n = int(held_out.get("negatives") or 0)
    top = held_out.get("top_negative_spam_scores") or []
    allowed = int(np.floor(target_fpr * n + 1e-9))
    if n == 0 or allowed > len(top):
        return None
    if allowed == len(top):
        return None if len(top) < n else 0.5
    return min(1.0, max(0.5, float(np.nextafter(top[allowed], np.inf))))


def _require_classes(y: np.ndarray, positive: str, negative: str) -> None:
    pos, neg = int(y.sum()), int((~y).sum())
    if pos < _MIN_PER_CLASS or neg < _MIN_PER_CLASS:
        raise DataError(
            f"need at least {_MIN_PER_CLASS} '{positive}' and {_MIN_PER_CLASS} "
            f"'{negative}' comments to train and validate, found {pos} and {neg}"
        )


def _duplicate_groups(texts: pd.Series) -> np.ndarray:
    # Copies of one text (after normalisation) share a group, so folds keep them
    # together and held-out scores are not inflated by memorised duplicates.
    ids: dict[str, int] = {}
    return np.array([ids.setdefault(normalise(t), len(ids)) for t in texts])


def _folds(
    y: np.ndarray, groups: np.ndarray, options: TrainingOptions
) -> list[tuple[np.ndarray, np.ndarray]]:
    n_splits = min(options.folds, int(y.sum()), int((~y).sum()))
    cv = StratifiedGroupKFold(
        n_splits=n_splits, shuffle=True, random_state=options.seed
    )
    return list(cv.split(np.zeros(len(y)), y, groups))


def _cross_validate(
    X: pd.DataFrame, y: np.ndarray, groups: np.ndarray, options: TrainingOptions
) -> tuple[dict[str, Any], np.ndarray]:
    """Choose C and return the out-of-fold decision values at that C.

    Features are unsupervised, so each fold's features are fitted once and shared by
    every candidate C. C is chosen by ROC AUC up to 5% FPR, the region the policy
    works in. Folds run in parallel.
    """
    base = dict(DEFAULT_PARAMS, seed=options.seed)
    folds = _folds(y, groups, options)
    results = Parallel(n_jobs=options.n_jobs)(
        delayed(_fold_decisions)(X, y, train_idx, test_idx, base, options)
        for train_idx, test_idx in folds
    )

    def mean_auc(C: float) -> float:
        return float(
            np.mean(
                [
                    roc_auc_score(y[test], d[C], max_fpr=0.05)
                    for (_, test), d in zip(folds, results, strict=True)
                ]
            )
        )

    best = max(options.C_grid, key=lambda C: (mean_auc(C), -C))
    decisions = np.zeros(len(y))
    for (_, test_idx), fold_decisions in zip(folds, results, strict=True):
        decisions[test_idx] = fold_decisions[best]
    return dict(base, C=best), decisions


def _fold_decisions(
    X: pd.DataFrame,
    y: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    params: dict[str, Any],
    options: TrainingOptions,
) -> dict[float, np.ndarray]:
    features = build_pipeline(**params).named_steps["features"]
    A = features.fit_transform(X.iloc[train_idx])
    B = features.transform(X.iloc[test_idx])
    out = {}
    for C in options.C_grid:
        model = LogisticRegression(
            C=C, class_weight="balanced", max_iter=5000, random_state=options.seed
        ).fit(A, y[train_idx])
        out[C] = model.decision_function(B)
    return out


def _calibrated(pipeline: Pipeline, decisions: np.ndarray) -> np.ndarray:
    # Held-out decision values mapped through the final model's own sigmoid, which was
    # fitted on cross-validated decision values of the same kind: held-out
    # probabilities on the scale the policy thresholds are compared against.
    calibrator = (
        pipeline.named_steps["classifier"].calibrated_classifiers_[0].calibrators[0]
    )
    return np.asarray(calibrator.predict(decisions), dtype=float)
