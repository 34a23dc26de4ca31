"""build_pipeline: the composition the trainer fits and the scorer compiles."""

from __future__ import annotations

import pickle

import numpy as np
from sklearn.base import clone

from moderation.features import METADATA_NAMES, SIGNAL_NAMES
from moderation.pipeline import DEFAULT_PARAMS, build_pipeline
from moderation.training import comments_frame


def test_build_pipeline_returns_an_unfitted_features_then_classifier_pipeline():
    pipeline = build_pipeline()
    assert [name for name, _ in pipeline.steps] == ["features", "classifier"]
    assert not hasattr(pipeline.named_steps["classifier"], "calibrated_classifiers_")
    blocks = [name for name, _, _ in pipeline.named_steps["features"].transformers]
    assert blocks == ["words", "chars", "signals", "metadata"]


def test_build_pipeline_accepts_every_default_param():
    """DEFAULT_PARAMS (stored in manifests) are exactly build_pipeline's keywords."""
    pipeline = build_pipeline(**DEFAULT_PARAMS)
    assert DEFAULT_PARAMS["C"] == pipeline.named_steps["classifier"].estimator.C


def test_unfitted_pipeline_clones_and_pickles():
    """Analyzers are module-level classes, so the pipeline has no lambdas to trip on."""
    pipeline = build_pipeline()
    assert repr(clone(pipeline)) == repr(pipeline)
    assert repr(pickle.loads(pickle.dumps(pipeline))) == repr(pipeline)


def test_fitted_feature_names_carry_their_block_prefix(trained_model):
    """Names are stable and prefixed: words__, chars__, signals__, then metadata__."""
    names = list(trained_model.spam.named_steps["features"].get_feature_names_out())
    prefixes = [name.split("__", 1)[0] for name in names]
    assert set(prefixes) == {"words", "chars", "signals", "metadata"}
    # Blocks are contiguous and in composition order.
    first = {p: prefixes.index(p) for p in ("words", "chars", "signals", "metadata")}
    assert prefixes == sorted(prefixes, key=first.__getitem__)
    assert names[0].startswith("words__")
    tail = [f"signals__{s}" for s in SIGNAL_NAMES] + [
        f"metadata__{s}" for s in METADATA_NAMES
    ]
    assert names[-len(tail) :] == tail
    assert "words__subscribe" in names


def test_fitted_pipeline_gives_probabilities_for_comment_rows(trained_model, corpus):
    comments, _ = corpus
    proba = trained_model.spam.predict_proba(comments_frame(comments[:5]))
    assert proba.shape == (5, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
