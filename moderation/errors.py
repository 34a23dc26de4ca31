"""Exceptions raised by the moderation library.

Every error a user can fix is a ``ModerationError``: the CLI turns it into a one-line
message and exit code 1, the HTTP service into a JSON error body. This module holds no
logic and imports nothing from the rest of the package.
"""

from __future__ import annotations

__all__ = [
    "ModerationError",
    "ConfigError",
    "ArtifactError",
    "InvalidComment",
    "DataError",
    "StoreError",
]


class ModerationError(Exception):
    """Base class: an error with a message fit to show to the user as it is."""


class ConfigError(ModerationError):
    """A setting has a value that cannot be used."""


class ArtifactError(ModerationError):
    """A model directory is missing, incomplete, tampered with or incompatible."""


class InvalidComment(ModerationError):
    """A comment to score or learn from does not have the expected shape."""


class DataError(ModerationError):
    """A labelled data file cannot be read: bad row, unknown label, missing column."""


class StoreError(ModerationError):
    """The feedback and key store cannot be reached or written."""
