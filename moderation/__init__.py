"""Self-hosted comment moderation: explained spam and low-value verdicts.

The library behind the ``moderation`` command and the HTTP service. It never imports
Flask. Public names are listed in ``__all__``.
"""

from moderation.comment import Comment, Label
from moderation.errors import (
    ArtifactError,
    ConfigError,
    DataError,
    InvalidComment,
    ModerationError,
    StoreError,
)
from moderation.moderator import Decision, Moderator
from moderation.policy import Policy, Thresholds, Verdict

__all__ = [
    "ArtifactError",
    "Comment",
    "ConfigError",
    "DataError",
    "Decision",
    "InvalidComment",
    "Label",
    "ModerationError",
    "Moderator",
    "Policy",
    "StoreError",
    "Thresholds",
    "Verdict",
]
