"""The one input shape: a comment with its optional author, post and context.

``Comment.from_dict`` validates the JSON-like request body of ``POST /v1/score`` (and
the records of training files) and raises ``InvalidComment`` naming the bad field.
Unknown fields are ignored, as Akismet-speaking engines send many. This module knows
nothing about features or models; ``Comment.to_row`` flattens a comment into the
columns the pipeline reads.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

from moderation.errors import InvalidComment

__all__ = [
    "Author",
    "Comment",
    "Context",
    "Label",
    "Post",
    "COMMENT_TYPES",
    "parse_label",
]

COMMENT_TYPES = (
    "comment",
    "reply",
    "trackback",
    "pingback",
    "forum-post",
    "contact-form",
    "signup",
    "message",
    "blog-post",
)

# C0 and C1 control characters other than tab, newline and carriage return.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Label(str, Enum):
    """A moderator's label: the wire values of the contract."""

    SPAM = "spam"
    LOW_VALUE = "low_value"
    HAM = "ham"


_LABEL_ALIASES = {
    "spam": Label.SPAM,
    "1": Label.SPAM,
    "true": Label.SPAM,
    "low_value": Label.LOW_VALUE,
    "low-value": Label.LOW_VALUE,
    "ham": Label.HAM,
    "0": Label.HAM,
    "false": Label.HAM,
    # WordPress and most engines call a published comment "approved".
    "approved": Label.HAM,
}


def parse_label(value: object) -> Label:
    """Read a label as the contract allows: names, ``1/true`` (spam), ``0/false`` (ham).

    Args:
        value: the raw value from a file or request (string, int or bool).

    Returns:
        The ``Label``.

    Raises:
        ValueError: the value is not a known label; the message lists the accepted ones.
    """
    if isinstance(value, bool):
        key = "true" if value else "false"
    elif isinstance(value, int):
        key = str(value)
    elif isinstance(value, str):
        key = value.strip().lower()
    else:
        key = ""
    try:
        return _LABEL_ALIASES[key]
    except KeyError:
        raise ValueError(
            f"unknown label {value!r}; use spam, low_value or ham "
            "(also accepted: low-value, 1/true for spam, 0/false/approved for ham)"
        ) from None


@dataclass(frozen=True)
class Author:
    name: str = ""
    email: str = ""
    url: str = ""
    ip: str = ""
    user_agent: str = ""
    role: str = ""
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    account_age_days: float | None = None
    approved_comments: int | None = None


@dataclass(frozen=True)
class Post:
    permalink: str = ""
    title: str = ""
    text: str = ""
    published_at: str = ""


@dataclass(frozen=True)
class Context:
    referrer: str = ""
    honeypot: str = ""
    seconds_to_submit: float | None = None
    lang: str = ""
    parent_id: str = ""
    recheck_reason: str = ""


@dataclass(frozen=True)
class Comment:
    """A comment to score, as the contract's score request describes it."""

    content: str
    type: str = "comment"
    author: Author = field(default_factory=Author)
    post: Post = field(default_factory=Post)
    context: Context = field(default_factory=Context)
    client_id: str = ""

    @classmethod
    def from_dict(cls, data: object) -> Comment:
        """Build a comment from a score request body.

        Args:
            data: the decoded JSON object; only ``content`` is required.

        Returns:
            The validated ``Comment``.

        Raises:
            InvalidComment: a field is missing, of the wrong type or holds control
                characters; the message names the field.
        """
        if not isinstance(data, dict):
            raise InvalidComment(
                "the comment must be a JSON object with a 'content' field"
            )
        if "content" not in data:
            raise InvalidComment("'content' is required: the text of the comment")
        content = _text(data["content"], "content")
        kind = _text(data.get("type", "comment") or "comment", "type").strip().lower()
        return cls(
            content=content,
            type=kind,
            author=_section(Author, data.get("author"), "author"),
            post=_section(Post, data.get("post"), "post"),
            context=_section(Context, data.get("context"), "context"),
            client_id=_text(data.get("client_id", ""), "client_id"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The comment as a score request body (the inverse of ``from_dict``)."""
        return asdict(self)

    def to_row(self) -> dict[str, Any]:
        """Flatten into the columns the feature pipeline reads (``author_name``...)."""
        row: dict[str, Any] = {"content": self.content, "type": self.type}
        for prefix, section in (
            ("author", self.author),
            ("post", self.post),
            ("context", self.context),
        ):
            for f in fields(section):
                row[f"{prefix}_{f.name}"] = getattr(section, f.name)
        return row


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidComment(f"'{name}' must be a string, not {type(value).__name__}")
    if _CONTROL_RE.search(value):
        raise InvalidComment(
            f"'{name}' contains control characters; send plain UTF-8 text"
        )
    return value


def _number(value: object, name: str, integer: bool) -> float | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidComment(f"'{name}' must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise InvalidComment(f"'{name}' must be a finite number of zero or more")
    if integer:
        if value != int(value):
            raise InvalidComment(f"'{name}' must be a whole number")
        return int(value)
    return float(value)


def _section(kind: type, data: object, name: str) -> Any:
    if data is None:
        return kind()
    if not isinstance(data, dict):
        raise InvalidComment(f"'{name}' must be a JSON object")
    values: dict[str, Any] = {}
    for f in fields(kind):
        if f.name not in data:
            continue
        dotted = f"{name}.{f.name}"
        if f.type == "str":
            values[f.name] = _text(data[f.name], dotted)
        else:
            values[f.name] = _number(data[f.name], dotted, integer="int" in str(f.type))
    return kind(**values)
