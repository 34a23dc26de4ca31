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
from functools import lru_cache
from typing import Any

import numpy as np
from nltk.stem.snowball import SnowballStemmer
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from moderation.text import find_urls, normalise, url_host

__all__ = [
    "HISTORY_COLUMNS",
    "METADATA_COLUMNS",
    "METADATA_NAMES",
    "METADATA_PRIORS",
    "SIGNAL_NAMES",
    "ContentSignals",
    "MetadataSignals",
    "content_signals",
    "metadata_signals",
]

# Relevance compares stems, so "recipe" under a post about "recipes" counts; the
# Snowball stemmers are algorithmic and need no nltk download.
_STEMMER = SnowballStemmer("english")

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


# --- Metadata: account, author, behaviour and relevance signals (issue 4) -----------
#
# Every metadata signal is 0 when the engine did not send what it needs, and 0 means
# "no evidence": the block is not standardised, so a missing field moves no score.
# Training data that carries metadata teaches the weights; a signal it never exercises
# gets the prior weight in ``METADATA_PRIORS`` (see ``training``).

HISTORY_COLUMNS = (
    "history_copies",
    "history_author_burst",
    "history_ip_burst",
    "history_spam_domains",
)
METADATA_COLUMNS = (
    "content",
    "author_name",
    "author_url",
    "author_role",
    "author_followers",
    "author_following",
    "author_posts",
    "author_account_age_days",
    "author_approved_comments",
    "post_title",
    "post_text",
    "context_honeypot",
    "context_seconds_to_submit",
) + HISTORY_COLUMNS

METADATA_NAMES = (
    "account__followers_per_post",
    "account__following_many",
    "account__follow_ratio",
    "account__new",
    "account__new_with_links",
    "account__approved_comments",
    "account__privileged_role",
    "author__url",
    "author__url_shortener",
    "author__name_has_link",
    "author__name_words",
    "author__reported_domain",
    "behaviour__honeypot",
    "behaviour__fast_submit",
    "behaviour__copies",
    "behaviour__author_burst",
    "behaviour__ip_burst",
    "relevance__shared_words",
    "relevance__no_shared_words",
)

# Prior weights (log-odds per unit of the signal) for signals no training data taught.
# Chosen by hand from what moderators and the WordPress/Antispam Bee checks treat as
# near-certain (a filled honeypot, an administrator) down to weak hints (an author
# URL); documented in README.md. Signals missing here have no prior (weight 0).
METADATA_PRIORS: dict[str, dict[str, float]] = {
    "spam": {
        "account__followers_per_post": 0.8,
        "account__following_many": 1.0,
        "account__follow_ratio": 1.0,
        "account__new": 0.5,
        "account__new_with_links": 2.0,
        "account__approved_comments": -1.5,
        "account__privileged_role": -8.0,
        "author__url": 0.3,
        "author__url_shortener": 1.5,
        "author__name_has_link": 2.0,
        "author__name_words": 0.7,
        "author__reported_domain": 3.0,
        "behaviour__honeypot": 8.0,
        "behaviour__fast_submit": 3.0,
        "behaviour__copies": 1.5,
        "behaviour__author_burst": 1.0,
        "behaviour__ip_burst": 1.0,
    },
    "low_value": {
        "account__approved_comments": -0.5,
        "relevance__shared_words": -1.5,
        "relevance__no_shared_words": 1.0,
    },
}

_PRIVILEGED_ROLES = frozenset(
    {"administrator", "editor", "author", "moderator", "admin"}
)
_NAME_LINK_RE = re.compile(r"https?://|www\.|\.(?:com|net|org|ru|info|biz)\b", re.I)
_STEM_WORD_RE = re.compile(r"[^\W\d_]{3,}")
# Words that say nothing about a post's subject: function words of the languages the
# corpus covers, and the vocabulary of generic praise ("great post, thanks for
# sharing"), which by definition fits every post. Written for this project; nltk's
# stop-word lists need a download.
_GENERIC_TEXT = """
    the and for are but not you your yours all any can had her was one our out day get
    has him his how man new now old see two way who boy did its let put say she too use
    this that with have from they will would there their what about which when make like
    time just know take people into year good some could them other than then look only
    come over think also back after work first well even want because these give most
    very here more much many such been were being does doing done really still always
    great post posts article articles blog blogs thanks thank thx sharing share shared
    nice awesome amazing good excellent informative helpful useful interesting wonderful
    beautiful love loved like liked keep writing write written wrote content info
    information admin sir madam dear page site website read reading job work lot lots
    please yes yeah wow cool best better keep posting up update updates
    der die das und ist nicht ein eine mit sich des auf für von dem den auch als
    les des est une pour pas que qui dans sur avec plus par mais
    los las que del una por con para como más pero sus
"""
_GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())


def _known(value: object) -> bool:
    return value is not None and value == value  # NaN from a DataFrame is missing


def _log10p(value: float) -> float:
    return math.log10(1.0 + max(0.0, value))


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    return str(_STEMMER.stem(word))


def _stem_set(text: str) -> frozenset[str]:
    return frozenset(
        _stem(w) for w in _STEM_WORD_RE.findall(text.lower()) if w not in _GENERIC_WORDS
    )


# Every comment under one post compares against the same post text: stem it once.
_post_stems = lru_cache(maxsize=1024)(_stem_set)


def metadata_signals(row: Any, normalised: str | None = None) -> list[float]:
    """The metadata signals of one comment, in the order of ``METADATA_NAMES``.

    Args:
        row: a mapping with the ``METADATA_COLUMNS`` (missing keys and ``None`` or NaN
            values mean "not sent").
        normalised: ``normalise(row["content"])``, when the caller has it already.

    Returns:
        One float per name; 0 wherever the needed fields are missing.
    """
    get = row.get
    followers, following = get("author_followers"), get("author_following")
    posts, age = get("author_posts"), get("author_account_age_days")
    approved = get("author_approved_comments")
    content = str(get("content") or "")
    if normalised is None:
        normalised = normalise(content)
    has_links = "xurlx" in normalised

    followers_per_post = (
        max(0.0, _log10p(followers) - _log10p(posts))
        if _known(followers) and _known(posts)
        else 0.0
    )
    following_many = max(0.0, _log10p(following) - 3.0) if _known(following) else 0.0
    follow_ratio = (
        max(0.0, _log10p(following) - _log10p(followers) - 1.0)
        if _known(following) and _known(followers)
        else 0.0
    )
    new = max(0.0, 1.0 - float(age) / 30.0) if _known(age) else 0.0
    role = str(get("author_role") or "").lower()
    privileged = (
        1.0 if _PRIVILEGED_ROLES & {r.strip() for r in role.split(",")} else 0.0
    )

    url = str(get("author_url") or "").strip()
    name = str(get("author_name") or "")
    seconds = get("context_seconds_to_submit")
    fast = max(0.0, 1.0 - float(seconds) / 10.0) if _known(seconds) else 0.0

    post = " ".join(str(get(k) or "") for k in ("post_title", "post_text")).strip()
    shared = no_shared = 0.0
    if post:
        # Under a known post, a comment naming nothing from it (generic praise has no
        # content words at all) shares nothing; one naming its subject shares stems.
        common = len(_stem_set(content) & _post_stems(post))
        shared = math.log1p(common)
        no_shared = 0.0 if common else 1.0

    def history(key: str) -> float:
        value = get(key)
        return math.log1p(float(value)) if _known(value) and value else 0.0

    return [
        followers_per_post,
        following_many,
        follow_ratio,
        new,
        new if has_links else 0.0,
        math.log1p(float(approved)) if _known(approved) else 0.0,
        privileged,
        1.0 if url else 0.0,
        1.0 if url and url_host(url) in SHORTENER_HOSTS else 0.0,
        1.0 if _NAME_LINK_RE.search(name) else 0.0,
        float(max(0, len(name.split()) - 3)),
        history("history_spam_domains"),
        1.0 if str(get("context_honeypot") or "").strip() else 0.0,
        fast,
        history("history_copies"),
        history("history_author_burst"),
        history("history_ip_burst"),
        shared,
        no_shared,
    ]


class MetadataSignals(TransformerMixin, BaseEstimator):
    """Transformer: comment rows (a DataFrame with ``METADATA_COLUMNS``) -> the
    ``METADATA_NAMES`` signals; absent columns count as not sent."""

    def fit(self, X: Any, y: Any = None) -> MetadataSignals:
        self._rows(X)
        self.n_features_in_ = len(getattr(X, "columns", METADATA_COLUMNS))
        return self

    def transform(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        rows = self._rows(X)
        return np.array([metadata_signals(r) for r in rows], dtype=np.float64).reshape(
            len(rows), len(METADATA_NAMES)
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(METADATA_NAMES, dtype=object)

    def signals_function(self) -> Any:
        """The per-comment function behind ``transform`` (for the fast scoring path)."""
        return metadata_signals

    @staticmethod
    def _rows(X: Any) -> list[dict[str, Any]]:
        if not hasattr(X, "to_dict"):
            raise TypeError("MetadataSignals takes a DataFrame of comment rows")
        return X.to_dict("records")
