"""compile_pipeline: the fast path must reproduce the pipeline it was compiled from."""

from __future__ import annotations

import numpy as np
import pytest

from moderation.comment import Comment
from moderation.scorer import RowCache, compile_pipeline
from moderation.training import comments_frame

UNSEEN = [
    "",
    " ",
    "zxqv blorft quuxil vrrk",  # only words the model never saw
    "qwpz",
    "!!!",
    "🔥🔥🔥",
    "Great post",
    "GREAT POST!!! THANKS",
    "Buy now http://bit.ly/x and http://b.example.com/y",
    "Ça coûte très cher, naïve café",
    "Call +1 800 555 0199 or mail help@example.com",
    '<a href="http://x.example.com">x</a> [url=http://y.example.com]y[/url]',
    "subscribe subscribe subscribe subscribe",
    "a " * 300,
    "x" * 2000,
    "Tom &amp; Jerry &lt;3",
    "sooooo goooood \u200bfr\ufeffee",
]


@pytest.fixture(scope="module")
def comments(corpus):
    """Unseen and awkward comments, then the training comments themselves."""
    return [Comment(t) for t in UNSEEN] + list(corpus[0])


@pytest.mark.parametrize("question", ["spam", "low_value"])
def test_compiled_model_reproduces_predict_proba(trained_model, comments, question):
    """To 1e-9, with and without explanations, on seen, unseen and empty comments."""
    pipeline = getattr(trained_model, question)
    expected = pipeline.predict_proba(comments_frame(comments))[:, 1]
    compiled = compile_pipeline(pipeline)
    for explain in (False, True):
        got = np.array(
            [compiled.score(RowCache(c.to_row()), explain=explain)[0] for c in comments]
        )
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


def test_one_row_cache_serves_both_questions(trained_model, comments):
    """Scoring both questions on one cache gives the same as fresh caches."""
    spam = compile_pipeline(trained_model.spam)
    low_value = compile_pipeline(trained_model.low_value)
    for comment in comments[:10]:
        shared = RowCache(comment.to_row())
        assert spam.score(shared)[0] == spam.score(RowCache(comment.to_row()))[0]
        assert (
            low_value.score(shared)[0] == low_value.score(RowCache(comment.to_row()))[0]
        )


def test_evidence_is_empty_without_explain(trained_model):
    compiled = compile_pipeline(trained_model.spam)
    cache = RowCache(
        Comment("Buy cheap followers http://followers.example.com").to_row()
    )
    _, evidence = compiled.score(cache, explain=False)
    assert evidence == []


def test_evidence_adds_up_to_the_decision_function(trained_model, comments):
    """Every term, phrase and signal share sums, with the intercept, to the log-odds."""
    compiled = compile_pipeline(trained_model.spam)
    for comment in comments:
        probability, evidence = compiled.score(RowCache(comment.to_row()))
        # Signals at zero are not evidence but still shift the (standardised) decision.
        cache = RowCache(comment.to_row())
        dense_total = sum(
            block.contributions(cache)[0] for block in compiled.dense_blocks
        )
        decision = (
            compiled.intercept
            + sum(e.weight for e in evidence if e.kind != "signal")
            + dense_total
        )
        z = compiled.sigmoid_a * decision + compiled.sigmoid_b
        assert probability == pytest.approx(1 / (1 + np.exp(z)), abs=1e-9)


def test_evidence_kinds_and_names(trained_model):
    compiled = compile_pipeline(trained_model.spam)
    _, evidence = compiled.score(
        RowCache(Comment("please subscribe to my channel http://bit.ly/x").to_row())
    )
    kinds = {e.kind for e in evidence}
    assert kinds <= {"term", "phrase", "signal"}
    assert any(e.kind == "signal" and e.name == "links__shortener" for e in evidence)
    assert any(e.kind == "term" and e.name == "subscribe" for e in evidence)
    assert all(" " in e.name for e in evidence if e.kind == "phrase")
