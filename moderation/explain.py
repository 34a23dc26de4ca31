"""Reasons: the evidence behind a score, in words an admin understands.

``reasons`` turns the per-feature contributions that ``scorer`` computes into
``Reason`` objects: a stable snake_case code, one sentence, and a weight (the
contribution in log-odds towards the verdict), strongest first. Words and phrases keep
their text ("the word “subscribe” is typical of spam"); signals get a sentence with
their real value ("contains 3 links"). This module does not decide the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moderation.scorer import Evidence
from moderation.text import url_host

__all__ = ["MAX_REASONS", "Reason", "reasons"]

MAX_REASONS = 5


@dataclass(frozen=True)
class Reason:
    """One reason for a verdict, as the wire contract shows it."""

    code: str
    message: str
    weight: float

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "weight": self.weight}


def _count(value: float) -> int:
    # Count signals are stored as log1p(count).
    return round(math.expm1(value))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# signal name -> (code, sentence from the raw value)
_SIGNALS = {
    "links__count": (
        "links",
        lambda v: f"The comment contains {_plural(_count(v), 'link')}.",
    ),
    "links__per_word": (
        "link_density",
        lambda v: "The comment is mostly links, with little text.",
    ),
    "links__distinct_domains": (
        "many_domains",
        lambda v: f"The comment links to {_plural(_count(v), 'different site')}.",
    ),
    "links__shortener": (
        "link_shortener",
        lambda v: "The comment uses a link shortener that hides where it leads.",
    ),
    "links__anchor_tags": (
        "html_links",
        lambda v: (
            f"The comment has {_plural(_count(v), 'HTML or BBCode link')} "
            "with anchor text."
        ),
    ),
    "contact__emails": (
        "email_address",
        lambda v: "The comment contains an e-mail address.",
    ),
    "contact__phones": (
        "phone_number",
        lambda v: "The comment contains a phone number.",
    ),
    "contact__messenger": (
        "messenger_contact",
        lambda v: (
            "The comment asks to be contacted on a messenger (WhatsApp, Telegram, DM)."
        ),
    ),
    "text__length": (
        "length",
        lambda v: f"The comment is {_count(v)} characters long.",
    ),
    "text__words": (
        "word_count",
        lambda v: f"The comment has {_plural(_count(v), 'word')}.",
    ),
    "text__caps_ratio": (
        "capitals",
        lambda v: f"{round(v * 100)}% of the comment's letters are capitals.",
    ),
    "text__shouting": (
        "shouting",
        lambda v: "The comment is written in capitals (shouting).",
    ),
    "text__exclamations": (
        "exclamations",
        lambda v: f"The comment exclaims {_plural(_count(v), 'time')}.",
    ),
    "text__money": (
        "money_talk",
        lambda v: "The comment talks about money, earnings or crypto.",
    ),
    "text__digit_ratio": (
        "digits",
        lambda v: f"{round(v * 100)}% of the comment's characters are digits.",
    ),
    "text__emoji_ratio": ("emoji", lambda v: "The comment is heavy on emoji."),
}


def _n(row: Mapping[str, Any], key: str) -> str:
    value: Any = row.get(key)
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "an unknown number of"


def _age(row: Mapping[str, Any]) -> str:
    days = float(row.get("author_account_age_days") or 0.0)
    return "less than a day" if days < 1 else _plural(int(days), "day")


def _host(row: Mapping[str, Any]) -> str:
    return url_host(str(row.get("author_url") or "")) or "a website"


# metadata signal name -> (code, sentence from the raw value and the comment's row)
_METADATA: dict[str, tuple[str, Callable[[float, Mapping[str, Any]], str]]] = {
    "account__followers_per_post": (
        "follower_farm",
        lambda v, r: (
            f"The account has {_n(r, 'author_followers')} followers and "
            f"{_n(r, 'author_posts')} posts."
        ),
    ),
    "account__following_many": (
        "mass_following",
        lambda v, r: f"The account follows {_n(r, 'author_following')} others.",
    ),
    "account__follow_ratio": (
        "follow_back_pattern",
        lambda v, r: (
            f"The account follows {_n(r, 'author_following')} others but has "
            f"{_n(r, 'author_followers')} followers."
        ),
    ),
    "account__new": ("new_account", lambda v, r: f"The account is {_age(r)} old."),
    "account__new_with_links": (
        "new_account_links",
        lambda v, r: f"An account {_age(r)} old is posting links.",
    ),
    "account__approved_comments": (
        "known_commenter",
        lambda v, r: (
            f"The author has {_n(r, 'author_approved_comments')} approved "
            "comments on this site."
        ),
    ),
    "account__privileged_role": (
        "trusted_role",
        lambda v, r: f"The author's role is {r.get('author_role')}.",
    ),
    "author__url": (
        "author_url",
        lambda v, r: f"The author gave a website ({_host(r)}).",
    ),
    "author__url_shortener": (
        "author_url_shortener",
        lambda v, r: (
            f"The author's website hides behind a link shortener ({_host(r)})."
        ),
    ),
    "author__name_has_link": (
        "author_name_link",
        lambda v, r: "The author's name contains a web address.",
    ),
    "author__name_words": (
        "keyword_name",
        lambda v, r: (
            f"The author's name, “{r.get('author_name')}”, reads like a list "
            "of keywords."
        ),
    ),
    "author__reported_domain": (
        "reported_domain",
        lambda v, r: (
            "The comment links to a site this blog's moderators reported as spam."
        ),
    ),
    "behaviour__honeypot": (
        "honeypot",
        lambda v, r: "The hidden honeypot field was filled in, which people never see.",
    ),
    "behaviour__fast_submit": (
        "fast_submit",
        lambda v, r: (
            "The comment was sent "
            f"{float(r.get('context_seconds_to_submit') or 0):.1f} seconds "
            "after the page loaded."
        ),
    ),
    "behaviour__copies": (
        "copy_campaign",
        lambda v, r: (
            f"The same text arrived {_n(r, 'history_copies')} times recently "
            "under other posts or from other authors."
        ),
    ),
    "behaviour__author_burst": (
        "author_burst",
        lambda v, r: (
            f"The author sent {_n(r, 'history_author_burst')} comments in the "
            "last few minutes."
        ),
    ),
    "behaviour__ip_burst": (
        "ip_burst",
        lambda v, r: (
            f"The same IP address sent {_n(r, 'history_ip_burst')} comments in "
            "the last few minutes."
        ),
    ),
    "relevance__shared_words": (
        "on_topic",
        lambda v, r: "The comment names things from the post it is under.",
    ),
    "relevance__no_shared_words": (
        "off_topic",
        lambda v, r: "The comment mentions nothing from the post it is under.",
    ),
}

# question -> direction -> (code for terms, code for phrases, what the direction means)
_TEXT = {
    ("spam", True): ("spam_word", "spam_phrase", "is typical of spam"),
    ("spam", False): (
        "genuine_word",
        "genuine_phrase",
        "is typical of genuine comments",
    ),
    ("low_value", True): (
        "low_value_word",
        "low_value_phrase",
        "is typical of generic comments that fit any post",
    ),
    ("low_value", False): (
        "specific_word",
        "specific_phrase",
        "is typical of comments that engage with the post",
    ),
}


def _readable(e: Evidence) -> bool:
    # Punctuation alone ("." or ",") says nothing to an admin; emoji and words do.
    return e.kind == "signal" or any(c.isalnum() or ord(c) > 0x2000 for c in e.name)


def _display(term: str) -> str:
    term = term.replace("xurlx", "<link>").replace("xemailx", "<e-mail>")
    return term.replace("xphonex", "<phone number>")


def reasons(
    evidence: Iterable[Evidence],
    question: str,
    towards: bool,
    row: Mapping[str, Any] | None = None,
    limit: int = MAX_REASONS,
) -> list[Reason]:
    """The strongest evidence pushing one question's score one way, as reasons.

    Args:
        evidence: contributions from ``CompiledModel.score``.
        question: ``"spam"`` or ``"low_value"``.
        towards: ``True`` for evidence raising the score, ``False`` for lowering it.
        row: the comment's row (``Comment.to_row`` plus history), for the sentences
            of metadata signals.
        limit: at most this many reasons.

    Returns:
        Reasons, strongest first; weights are positive (strength towards the verdict).
    """
    sign = 1.0 if towards else -1.0
    ranked = sorted(
        (e for e in evidence if sign * e.weight > 0 and _readable(e)),
        key=lambda e: -sign * e.weight,
    )
    word_code, phrase_code, meaning = _TEXT[(question, towards)]
    out: list[Reason] = []
    for e in ranked[:limit]:
        weight = round(sign * e.weight, 3)
        if e.kind == "signal":
            if e.name in _SIGNALS:
                code, sentence = _SIGNALS[e.name]
                message = sentence(e.value)
            elif e.name in _METADATA:
                code, row_sentence = _METADATA[e.name]
                message = row_sentence(e.value, row or {})
            else:
                code, message = e.name, f"The signal {e.name} is {e.value:.3g}."
            out.append(Reason(code, message, weight))
        elif e.kind == "phrase":
            out.append(
                Reason(
                    phrase_code, f"The phrase “{_display(e.name)}” {meaning}.", weight
                )
            )
        else:
            out.append(
                Reason(word_code, f"The word “{_display(e.name)}” {meaning}.", weight)
            )
    return out
