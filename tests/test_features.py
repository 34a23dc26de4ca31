"""ContentSignals: the estimator contract, stable names and the signal values."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from moderation.features import SIGNAL_NAMES, ContentSignals, content_signals


@parametrize_with_checks([ContentSignals()])
def test_content_signals_passes_scikit_learn_estimator_checks(estimator, check):
    """The transformer keeps scikit-learn's estimator contract, every check included."""
    check(estimator)


TEXTS = np.array(
    [
        ["Buy now http://bit.ly/abc and http://example.com/x"],
        ["Great post, thanks!"],
        ["CALL ME NOW AT +1 800 555 0199 PLEASE"],
        [""],
        ["Ça coûte 10 € 🔥"],
    ],
    dtype=object,
)


def test_fit_returns_self_and_records_one_input_column():
    signals = ContentSignals()
    assert signals.fit(TEXTS) is signals
    assert signals.n_features_in_ == 1


def test_transform_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        ContentSignals().transform(TEXTS)


def test_transform_gives_one_row_per_comment_and_one_column_per_signal():
    out = ContentSignals().fit_transform(TEXTS)
    assert out.shape == (len(TEXTS), len(SIGNAL_NAMES))
    assert out.dtype == np.float64
    assert np.isfinite(out).all()


def test_transform_reads_a_one_column_dataframe_and_records_its_name():
    frame = pd.DataFrame({"content": TEXTS[:, 0]})
    signals = ContentSignals().fit(frame)
    assert list(signals.feature_names_in_) == ["content"]
    np.testing.assert_array_equal(
        signals.transform(frame), ContentSignals().fit_transform(TEXTS)
    )


def test_transform_is_row_wise_order_and_subset_invariant():
    signals = ContentSignals().fit(TEXTS)
    full = signals.transform(TEXTS)
    order = [3, 0, 4, 2, 1]
    np.testing.assert_array_equal(signals.transform(TEXTS[order]), full[order])
    np.testing.assert_array_equal(signals.transform(TEXTS[1:3]), full[1:3])


def test_fit_is_idempotent_and_pickles():
    signals = ContentSignals().fit(TEXTS)
    again = ContentSignals().fit(TEXTS).fit(TEXTS)
    copy = pickle.loads(pickle.dumps(signals))
    np.testing.assert_array_equal(again.transform(TEXTS), signals.transform(TEXTS))
    np.testing.assert_array_equal(copy.transform(TEXTS), signals.transform(TEXTS))


def test_missing_texts_read_as_empty_comments():
    signals = ContentSignals().fit(TEXTS)
    out = signals.transform(np.array([[None], [""]], dtype=object))
    np.testing.assert_array_equal(out[0], out[1])


def test_several_columns_are_read_as_one_text_per_row():
    """Cells of a row are joined: two columns give the signals of their joined text."""
    two = np.array([["Buy now", "http://bit.ly/abc"]], dtype=object)
    one = np.array([["Buy now http://bit.ly/abc"]], dtype=object)
    assert np.array_equal(
        ContentSignals().fit_transform(two), ContentSignals().fit_transform(one)
    )


def test_signal_names_are_stable():
    """Renaming a signal breaks stored models and reason codes: this list is fixed."""
    assert SIGNAL_NAMES == (
        "links__count",
        "links__per_word",
        "links__distinct_domains",
        "links__shortener",
        "links__anchor_tags",
        "contact__emails",
        "contact__phones",
        "contact__messenger",
        "text__length",
        "text__words",
        "text__caps_ratio",
        "text__shouting",
        "text__exclamations",
        "text__money",
        "text__digit_ratio",
        "text__emoji_ratio",
    )
    names = ContentSignals().fit(TEXTS).get_feature_names_out()
    assert list(names) == list(SIGNAL_NAMES)


def _signals(text: str) -> dict[str, float]:
    return dict(zip(SIGNAL_NAMES, content_signals(text), strict=True))


def test_links_are_counted_with_their_distinct_sites():
    s = _signals("see http://bit.ly/x and https://www.example.com/a and example.org")
    assert s["links__count"] == pytest.approx(math.log1p(3))
    assert s["links__distinct_domains"] == pytest.approx(math.log1p(3))
    # 3 links over "see xurlx bit and xurlx and xurlx" (7 words; example.com and
    # example.org are documentation names, so only the marker stays).
    assert s["links__per_word"] == pytest.approx(3 / 8)


def test_two_links_to_one_site_count_one_domain():
    s = _signals("http://example.com/a http://example.com/b")
    assert s["links__count"] == pytest.approx(math.log1p(2))
    assert s["links__distinct_domains"] == pytest.approx(math.log1p(1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("free iPhone http://bit.ly/xyz123", 1.0),
        ("free iPhone https://tinyurl.com/abc", 1.0),
        ("free iPhone https://www.example.com/abc", 0.0),
        ("no link at all", 0.0),
    ],
)
def test_link_shortener_flag(text, expected):
    assert _signals(text)["links__shortener"] == expected


def test_anchor_tags_and_bbcode_links_are_counted():
    text = '<a href="http://a.example.com">a</a> [url=http://b.example.com]b[/url]'
    assert _signals(text)["links__anchor_tags"] == pytest.approx(math.log1p(2))


def test_phone_number_and_email_are_contact_signals():
    s = _signals("Call +1 800 555 0199 or mail help@example.com")
    assert s["contact__phones"] == pytest.approx(math.log1p(1))
    assert s["contact__emails"] == pytest.approx(math.log1p(1))
    assert _signals("meet on 2024-03-15 at 10:30")["contact__phones"] == 0.0


def test_messenger_contact_is_detected():
    assert _signals("WhatsApp me for details")["contact__messenger"] == pytest.approx(
        math.log1p(1)
    )


def test_shouting_needs_mostly_capitals_over_enough_letters():
    loud = _signals("CALL ME NOW AT ONCE PLEASE")
    assert loud["text__shouting"] == 1.0
    assert loud["text__caps_ratio"] == pytest.approx(1.0)
    assert _signals("OK GO")["text__shouting"] == 0.0  # too few letters to shout
    assert _signals("Call me now at once please")["text__shouting"] == 0.0


def test_money_talk_is_detected():
    assert _signals("I earned $8000 with bitcoin")["text__money"] > 0
    assert _signals("the ferry was lovely")["text__money"] == 0.0


def test_empty_text_gives_all_zero_signals():
    assert content_signals("") == [0.0] * len(SIGNAL_NAMES)


def test_signals_accept_precomputed_normalised_text():
    from moderation.text import normalise

    text = "Visit http://bit.ly/abc NOW!!"
    assert content_signals(text, normalise(text)) == content_signals(text)
