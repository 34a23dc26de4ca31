"""Structured signals computed from a comment's content, as a scikit-learn transformer.

``content_signals`` computes, for one comment, the numbers a moderator reads at a
glance: how many links and to how many sites, link shorteners, HTML/BBCode anchors,
contact details, shouting, money talk, length. ``ContentSignals`` applies it row by row
inside the pipeline; the fast scoring path calls ``content_signals`` directly, so both
see the same values. Every signal has a stable, prefixed name (``links__count``).

Word and character n-grams are not here (see ``text``); neither is any learned weight.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from moderation.text import find_urls, normalise, url_host

__all__ = ["SIGNAL_NAMES", "ContentSignals", "content_signals"]

SIGNAL_NAMES = (
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

SHORTENER_HOSTS = frozenset(
    {
        "bit.ly",
        "goo.gl",
        "tinyurl.com",
        "t.co",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "cutt.ly",
        "rebrand.ly",
        "shorturl.at",
        "rb.gy",
        "tiny.cc",
        "lnkd.in",
        "linkbucks.com",
        "adf.ly",
        "bl.ink",
        "t.ly",
        "s.id",
        "v.gd",
        "shorte.st",
    }
)
# Patterns below run on normalised (lower-case) text, where links, e-mail addresses
# and phone numbers are already marker words (see ``text.normalise``).
_MESSENGER_RE = re.compile(
    r"\b(?:whats ?app|telegram|viber|wechat|kik|snapchat|signal me|dm me|inbox me|"
    r"pm me|text me)\b|xurlx (?:wa|t)\b"
)
_ANCHOR_RE = re.compile(r"<a\s[^>]*href|\[url[=\]]", re.IGNORECASE)
_MONEY_RE = re.compile(
    r"[$€£₹¥₦] ?\d|\d ?(?:[$€£₹¥₦]|usd|eur|gbp|dollars?|euros?|pounds?|bucks)\b"
    r"|\b(?:bitcoin|btc|usdt|forex|profit|income|cash|earn(?:ed|ing)?)\b"
)
# Runs, not characters: one "!!!!!!!!" from an excited fan is one exclamation.
_EXCLAMATIONS_RE = re.compile(r"!+")
_EMOJI_RE = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf]")


def content_signals(text: str, normalised: str | None = None) -> list[float]:
    """The signals of one comment, in the order of ``SIGNAL_NAMES``.

    Counts are log-scaled (``log1p``) so one comment with 40 links does not dominate.

    Args:
        text: the raw comment text.
        normalised: ``normalise(text)``, when the caller has it already.

    Returns:
        One float per name in ``SIGNAL_NAMES``.
    """
    if normalised is None:
        normalised = normalise(text)
    links = normalised.count("xurlx")
    hosts = {url_host(u) for u in find_urls(text)} if links else set()
    words = len(normalised.split())
    letters = sum(map(str.isalpha, text))
    caps = sum(map(str.isupper, text)) / letters if letters else 0.0
    chars = len(text) or 1
    anchors = len(_ANCHOR_RE.findall(text)) if ("<" in text or "[" in text) else 0
    emoji = 0 if text.isascii() else len(_EMOJI_RE.findall(text))
    return [
        math.log1p(links),
        links / (words + 1),
        math.log1p(len(hosts)),
        1.0 if hosts & SHORTENER_HOSTS else 0.0,
        math.log1p(anchors),
        math.log1p(normalised.count("xemailx")),
        math.log1p(normalised.count("xphonex")),
        math.log1p(len(_MESSENGER_RE.findall(normalised))),
        math.log1p(len(text)),
        math.log1p(words),
        caps,
        1.0 if letters >= 12 and caps >= 0.7 else 0.0,
        math.log1p(len(_EXCLAMATIONS_RE.findall(text))) if "!" in text else 0.0,
        math.log1p(len(_MONEY_RE.findall(normalised))),
        sum(map(str.isdigit, text)) / chars,
        emoji / chars,
    ]


class ContentSignals(TransformerMixin, BaseEstimator):
    """Transformer: comment texts -> the ``SIGNAL_NAMES`` signals.

    Takes a 2-D input whose column holds the comment text (what a
    ``ColumnTransformer`` passes for ``["content"]``); with several columns a row's
    cells are joined into one text.
    """

    def fit(self, X: Any, y: Any = None) -> ContentSignals:
        self._validate(X, reset=True)
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        column = self._validate(X, reset=False)
        return np.array([content_signals(t) for t in column], dtype=np.float64).reshape(
            len(column), len(SIGNAL_NAMES)
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(SIGNAL_NAMES, dtype=object)

    def signals_function(self) -> Any:
        """The per-comment function behind ``transform`` (for the fast scoring path)."""
        return content_signals

    def _validate(self, X: Any, reset: bool) -> list[str]:
        array = validate_data(
            self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan"
        )
        # Each row's text is its cells joined by a space: the comment itself for the
        # one ``content`` column the pipeline passes; any value is read as text.
        return [" ".join("" if v is None else str(v) for v in row) for row in array]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags
