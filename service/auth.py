"""API-key authentication: the bearer key of ``/v1`` and the Akismet key sources.

``require_key`` answers 401 (in the error envelope) for a missing, unknown or revoked
key and returns the key's ``KeyInfo``; ``akismet_key`` finds an Akismet client's key in
the ``api_key`` / ``key`` field or the first label of the Host name. A valid key over
its rate limit (``MODERATION_RATE_LIMIT``) gets 429 with ``Retry-After``. Keys are
checked against the store (hashed, constant-time) and never logged. This module does
not decide what a key may do beyond being valid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from flask import g, request

from moderation.store import KEY_LENGTH, KeyInfo
from service.errors import ApiError
from service.runtime import runtime

__all__ = ["akismet_key", "check_key", "require_key"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="moderation"'}


def check_key(key: str) -> KeyInfo | None:
    """The ``KeyInfo`` of a valid key, else ``None``.

    Raises:
        ApiError: 429 when the key is over its rate limit; 503 if the store is down.
    """
    rt = runtime()
    info = rt.verify(key)
    if info is not None:
        g.key_id = info.id
        wait = rt.take(info.id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429,
                "rate_limited",
                f"This key is over its limit of {rt.settings.rate_limit} requests a "
                f"minute; retry in {seconds} s (MODERATION_RATE_LIMIT).",
                {"Retry-After": str(seconds)},
            )
    return info


def require_key() -> KeyInfo:
    """The caller's key from ``Authorization: Bearer <key>``.

    Raises:
        ApiError: 401 without a valid key; 503 when the store does not answer.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.strip().partition(" ")
    if not header or scheme.lower() != "bearer" or not key.strip():
        raise ApiError(
            401,
            "missing_key",
            "Send your API key as 'Authorization: Bearer <key>'; create one with "
            "'moderation keys create --site URL'.",
            _CHALLENGE,
        )
    info = check_key(key.strip())
    if info is None:
        raise ApiError(
            401,
            "invalid_key",
            "The API key is unknown or revoked; check it, or create a new one with "
            "'moderation keys create --site URL'.",
            _CHALLENGE,
        )
    return info


def akismet_key(fields: Mapping[str, str], *names: str) -> str:
    """An Akismet client's key: from the first of ``names`` present, else the Host.

    Older clients call ``https://{key}.rest.akismet.com/1.1/...``: a first host label
    of exactly 12 letters and digits is taken as the key. Returns ``""`` if none.
    """
    for name in names:
        value = fields.get(name, "").strip()
        if value:
            return value
    host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else ""
    label, dot, rest = host.partition(".")
    if (
        dot
        and rest
        and len(label) == KEY_LENGTH
        and label.isalnum()
        and label.isascii()
    ):
        return label
    return ""
