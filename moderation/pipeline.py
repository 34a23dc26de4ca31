"""Builds the unfitted scikit-learn pipeline for one question (spam, or low value).

Composition only: this module never fits, loads, scores or decides. The pipeline reads
a DataFrame with a ``content`` column (``Comment.to_row`` makes its rows) and sends the
text to word n-grams, character n-grams and ``ContentSignals``; a logistic regression
whose scores are calibrated with Platt's sigmoid turns the features into a probability.

The fast scoring path (``scorer``) compiles exactly this structure; changing the
composition here means teaching ``scorer.compile_pipeline`` the new step.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from moderation.features import METADATA_COLUMNS, ContentSignals, MetadataSignals
from moderation.text import CharNgrams, WordNgrams

__all__ = ["DEFAULT_PARAMS", "build_pipeline"]

DEFAULT_PARAMS: dict[str, object] = {
    "word_ngrams": (1, 2),
    "char_ngrams": (2, 5),
    "char_min_df": 2,
    "binary": True,
    "signal_weight": 0.1,
    "C": 10.0,
    "calibration_folds": 5,
    "seed": 0,
}


def build_pipeline(
    *,
    word_ngrams: tuple[int, int] = (1, 2),
    char_ngrams: tuple[int, int] = (2, 5),
    char_min_df: int = 2,
    binary: bool = True,
    signal_weight: float = 0.1,
    C: float = 10.0,
    calibration_folds: int = 5,
    seed: int = 0,
) -> Pipeline:
    """An unfitted pipeline: comment rows -> calibrated probability of the positive.

    Args:
        word_ngrams: smallest and largest word n-gram.
        char_ngrams: smallest and largest character n-gram (within words).
        char_min_df: character n-grams seen in fewer training comments are dropped.
        binary: count each n-gram once per comment (presence, not frequency); short
            comments repeat little, and presence generalised better across YouTube
            videos (docs/experiments/features.md).
        signal_weight: scale of the standardised signals relative to the n-grams; below
            1 the regularisation holds their weights back more.
        C: inverse regularisation strength of the logistic regression.
        calibration_folds: folds for the sigmoid calibration.
        seed: seed for the calibration folds and the solver.

    Returns:
        A ``Pipeline`` with steps ``features`` and ``classifier``.
    """
    features = ColumnTransformer(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer=WordNgrams(*word_ngrams),
                    binary=binary,
                    sublinear_tf=True,
                    dtype=np.float64,
                ),
                "content",
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer=CharNgrams(*char_ngrams),
                    binary=binary,
                    sublinear_tf=True,
                    min_df=char_min_df,
                    dtype=np.float64,
                ),
                "content",
            ),
            ("signals", make_pipeline(ContentSignals(), StandardScaler()), ["content"]),
            # Not standardised: 0 means "not sent", and must stay neutral.
            ("metadata", MetadataSignals(), list(METADATA_COLUMNS)),
        ],
        sparse_threshold=1.0,
        transformer_weights={"signals": signal_weight, "metadata": signal_weight},
    )
    classifier = CalibratedClassifierCV(
        LogisticRegression(
            C=C, class_weight="balanced", max_iter=5000, random_state=seed
        ),
        method="sigmoid",
        cv=StratifiedKFold(calibration_folds, shuffle=True, random_state=seed),
        ensemble=False,
    )
    return Pipeline([("features", features), ("classifier", classifier)])
