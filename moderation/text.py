"""Text normalisation and tokenisation for comments.

``normalise`` turns raw comment text (HTML-escaped, tagged, full of zero-width
characters, URLs and shouting) into a canonical lower-case string; ``tokenise`` splits
it with an nltk ``RegexpTokenizer``, which needs no downloaded data. ``WordNgrams`` and
``CharNgrams`` are the picklable analyzers the vectorizers use, and that the fast
scoring path calls directly, so training and scoring see exactly the same grams.

This module computes no numeric features (see ``features``) and never downloads
anything.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator

from nltk.tokenize import RegexpTokenizer

__all__ = [
    "CharNgrams",
    "WordNgrams",
    "EMAIL_RE",
    "PHONE_RE",
    "URL_RE",
    "find_urls",
    "normalise",
    "tokenise",
    "url_host",
]

# Top-level domains recognised in bare links ("example.com/page"); explicit schemes and
# "www." are always links.
_TLDS = (
    "com|net|org|info|biz|io|co|ru|xyz|top|ly|me|us|uk|de|fr|es|it|nl|pl|br|in|id|tk|"
    "site|online|club|shop|store|tv|gl|cc|ws|su|ua|cn|jp|pro|app|dev|link|live|vip|win|"
    "bet|casino|loan|work|click|gg|to|be|sh|ai"
)
URL_RE = re.compile(
    r"(?:(?:https?|ftp)://|www\.)[^\s<>\"']+"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:" + _TLDS + r")\b(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Phone numbers: international (+ and 8-15 digits), North American 3-3-4 or ten bare
# digits, national trunk-prefixed (0xxxx xxxxxx). Dates, times, prices and round counts
# ("1000000000 views") do not match.
PHONE_RE = re.compile(
    r"(?<![\w.+])(?:\+\d(?:[\s().-]{0,2}\d){7,14}"
    r"|\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}"
    r"|0\d{2,4}[\s.-]?\d{3,4}[\s.-]?\d{3,4}"
    r"|[2-9]\d{9}(?<!000))(?![\w])"
)
_HREF_RE = re.compile(r"""<a\b[^>]*?href\s*=\s*["']?([^"'\s>]+)[^>]*>""", re.IGNORECASE)
_BBCODE_URL_RE = re.compile(r"\[url=([^\]]+)\]", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-z][^>]{0,500}>|\[/?[a-z]+\]", re.IGNORECASE)
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_REPEAT_RE = re.compile(r"(\D)\1{2,}")
_HAS_DIGITS_RE = re.compile(r"\d{3}")
# Host names that say nothing about a link: subdomain words, and the names RFC 2606
# reserves for documentation ("example.com"), which the corpus uses for every made-up
# link; learning them would teach the model that "example" means spam.
_SHORT_HOST_WORDS = frozenset(
    {"www", "m", "web", "example", "test", "invalid", "localhost"}
)

# Words (with inner apostrophes), and runs of punctuation or emoji, which keeps "!!",
# ":)" and "🔥🔥" as tokens. nltk's TweetTokenizer splits comments much the same way
# but costs five times as long (170 us against 35 us a comment here).
_TOKENIZER = RegexpTokenizer(r"\w+(?:['’]\w+)*|[^\w\s]+")
_SLICES: dict[tuple[int, int, int], list[slice]] = {}


def find_urls(text: str) -> list[str]:
    """Every link in ``text``: with a scheme, starting ``www.``, or a bare domain."""
    return URL_RE.findall(text)


def url_host(url: str) -> str:
    """The lower-case host name of a link, without scheme, port, path or ``www.``."""
    host = re.sub(r"^[a-z]+://", "", url.strip().lower())
    host = re.split(r"[/?#:]", host, maxsplit=1)[0]
    return host[4:] if host.startswith("www.") else host


def _url_token(match: re.Match[str]) -> str:
    # A link becomes a marker plus the registrable name ("youtu", "bit"): the marker
    # generalises across sites, the name keeps well-known hosts recognisable.
    labels = [p for p in url_host(match.group()).split(".") if p]
    name = labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")
    if name in _SHORT_HOST_WORDS:
        name = ""
    return f" xurlx {name} "


def normalise(text: str) -> str:
    """Canonical form of a comment for the text features.

    Unescapes HTML entities, keeps link targets but drops tags and BBCode, folds
    Unicode compatibility forms, removes zero-width characters, replaces links, e-mail
    addresses and phone numbers by marker words, shortens runs of one character to
    two ("sooooo" -> "soo"), lower-cases and collapses white space.

    Args:
        text: the raw comment text.

    Returns:
        The normalised text.
    """
    # Each pass is skipped when its trigger character is absent: most comments need
    # only a few of them, and this runs on every comment scored.
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if "<" in text or "[" in text:
        text = _HREF_RE.sub(r" \1 ", text)
        text = _BBCODE_URL_RE.sub(r" \1 ", text)
        text = _TAG_RE.sub(" ", text)
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE_RE.sub("", text)
    if "@" in text:
        text = EMAIL_RE.sub(" xemailx ", text)
    if "." in text or "/" in text:
        text = URL_RE.sub(_url_token, text)
    if _HAS_DIGITS_RE.search(text):
        text = PHONE_RE.sub(" xphonex ", text)
    text = _REPEAT_RE.sub(r"\1\1", text)
    return " ".join(text.lower().split())


def tokenise(normalised: str) -> list[str]:
    """Split normalised text into tokens (words, emoji, emoticons, punctuation runs)."""
    return _TOKENIZER.tokenize(normalised)


class WordNgrams:
    """Analyzer: word n-grams of the normalised, tokenised text.

    Args:
        min_n: shortest n-gram, in tokens.
        max_n: longest n-gram, in tokens.
    """

    def __init__(self, min_n: int = 1, max_n: int = 2) -> None:
        self.min_n = min_n
        self.max_n = max_n

    def __call__(self, text: str) -> list[str]:
        return self.from_normalised(normalise(text))

    def from_normalised(self, normalised: str) -> list[str]:
        tokens = tokenise(normalised)
        grams: list[str] = tokens[:] if self.min_n == 1 else []
        for n in range(max(self.min_n, 2), self.max_n + 1):
            grams.extend(
                map(" ".join, zip(*(tokens[i:] for i in range(n)), strict=False))
            )
        return grams

    def __repr__(self) -> str:
        return f"WordNgrams({self.min_n}, {self.max_n})"


class CharNgrams:
    """Analyzer: character n-grams inside each space-padded word of the normalised text.

    A word shorter than ``n`` characters (padding included) yields itself once, and
    no longer grams.

    Args:
        min_n: shortest n-gram, in characters.
        max_n: longest n-gram, in characters.
    """

    def __init__(self, min_n: int = 2, max_n: int = 5) -> None:
        self.min_n = min_n
        self.max_n = max_n

    def __call__(self, text: str) -> list[str]:
        return self.from_normalised(normalise(text))

    def from_normalised(self, normalised: str) -> list[str]:
        grams: list[str] = []
        for _, word_grams in self.by_word(normalised):
            grams.extend(word_grams)
        return grams

    def by_word(self, normalised: str) -> Iterator[tuple[str, list[str]]]:
        """Each word of the text with the grams it yields (for explanations)."""
        for word in normalised.split():
            yield word, self.word_grams(word)

    def word_grams(self, word: str) -> list[str]:
        """The grams of one word (without spaces), padded with a space each side."""
        padded = f" {word} "
        key = (len(padded), self.min_n, self.max_n)
        slices = _SLICES.get(key)
        if slices is None:
            slices = _SLICES[key] = _gram_slices(*key)
        return list(map(padded.__getitem__, slices))

    def __repr__(self) -> str:
        return f"CharNgrams({self.min_n}, {self.max_n})"


def _gram_slices(size: int, min_n: int, max_n: int) -> list[slice]:
    # The slices that cut a padded word of this size into its grams, computed once
    # per size so that cutting is a C-level map over them.
    slices: list[slice] = []
    for n in range(min_n, max_n + 1):
        if n >= size:
            slices.append(slice(0, size))
            break
        slices.extend(slice(i, i + n) for i in range(size - n + 1))
    return slices
