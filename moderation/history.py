"""Fingerprints of comments for the recent history: what the store keeps and looks up.

``fingerprint`` reduces a comment to digests: its normalised text (so texts that differ
only in case, spacing, markup or the links they carry share one), the author (e-mail,
else name), the IP address and the post's permalink, plus the domains it links to.
The store keeps these for a bounded window (``store.record_recent``) and counts copies
and bursts from them (``store.history_counts``); ``Moderator.score`` takes the counts
as ``history``.

Only digests leave this module: the history holds no text, address or e-mail. This
module does no I/O.
"""

from __future__ import annotations

import hashlib

from moderation.comment import Comment
from moderation.store import RecentComment
from moderation.text import find_urls, normalise, url_host

__all__ = ["BURST_SECONDS", "MIN_COPY_WORDS", "comment_domains", "fingerprint"]

# Comments from one author or IP within this many seconds count as a burst.
BURST_SECONDS = 600.0
# Texts shorter than this many words are never counted as copies: on a busy site many
# genuine readers write "Thanks!" or "Great post" within the same hour.
MIN_COPY_WORDS = 4


def _digest(kind: str, value: str) -> str:
    value = value.strip().lower()
    if not value:
        return ""
    return hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()[:32]


def comment_domains(comment: Comment) -> tuple[str, ...]:
    """The domains a comment links to, in its text and its author URL, sorted."""
    hosts = {url_host(u) for u in find_urls(comment.content)}
    if comment.author.url.strip():
        hosts.add(url_host(comment.author.url.strip()))
    return tuple(sorted(h.removeprefix("www.") for h in hosts if h))


def fingerprint(
    comment: Comment, key_id: str, normalised: str | None = None
) -> RecentComment:
    """The comment's fingerprint for the recent history of one key's site.

    Args:
        comment: the comment.
        key_id: the API key's id (history is per site).
        normalised: ``normalise(comment.content)``, when the caller has it.

    Returns:
        A ``RecentComment`` with digests ('' for what was not sent, and for texts
        shorter than ``MIN_COPY_WORDS`` words).
    """
    if normalised is None:
        normalised = normalise(comment.content)
    words = normalised.split()
    author = comment.author.email or comment.author.name
    return RecentComment(
        key_id=key_id,
        text_hash=_digest("text", " ".join(words))
        if len(words) >= MIN_COPY_WORDS
        else "",
        author_hash=_digest("author", author),
        ip_hash=_digest("ip", comment.author.ip),
        post_hash=_digest("post", comment.post.permalink),
        domains=comment_domains(comment),
    )
