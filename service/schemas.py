"""Request and response schemas, the validator that enforces them, the OpenAPI document.

Every JSON body the service accepts or returns is described once, here, as a JSON
Schema (the subset the OpenAPI 3.1 document can carry). The routes validate requests
with ``validate`` against these same dicts, and ``openapi`` builds ``/openapi.json``
from them, so the published document cannot drift from what the routes accept.

The validator understands only the keywords used below (``type``, ``properties``,
``required``, ``items``, ``minItems``, ``maxItems``, ``enum``, ``minimum``,
``maximum``, ``pattern``, ``anyOf``); unknown fields are always allowed. This module
does not read requests or build responses.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from moderation.comment import COMMENT_TYPES

__all__ = [
    "BATCH_REQUEST",
    "FEEDBACK_REQUEST",
    "SCORE_REQUEST",
    "SchemaError",
    "batch_request",
    "openapi",
    "validate",
]

Schema = dict[str, Any]

# Same characters as ``moderation.comment`` refuses: C0 and DEL, except tab, LF, CR.
_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"
# Counts and durations beyond this are no real account; the cap keeps features finite.
_MAX_NUMBER = 1_000_000_000


def _text(description: str) -> Schema:
    return {
        "type": ["string", "null"],
        "pattern": _TEXT_PATTERN,
        "description": description,
    }


def _count(description: str) -> Schema:
    return {
        "type": ["integer", "null"],
        "minimum": 0,
        "maximum": _MAX_NUMBER,
        "description": description,
    }


def _amount(description: str) -> Schema:
    return {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": _MAX_NUMBER,
        "description": description,
    }


AUTHOR: Schema = {
    "type": ["object", "null"],
    "description": "Who wrote the comment; every field is optional.",
    "properties": {
        "name": _text("Name the author gave."),
        "email": _text("E-mail address the author gave."),
        "url": _text("Web site the author typed."),
        "ip": _text("The author's IP address."),
        "user_agent": _text("The author's browser User-Agent."),
        "role": _text("The author's role(s) on the site, comma-separated."),
        "followers": _count("Followers of the author's account."),
        "following": _count("Accounts the author follows."),
        "posts": _count("Posts the author has made."),
        "account_age_days": _amount("Age of the author's account in days."),
        "approved_comments": _count("The author's previously approved comments."),
    },
}

POST: Schema = {
    "type": ["object", "null"],
    "description": "The post commented on; every field is optional.",
    "properties": {
        "permalink": _text("Full URL of the post."),
        "title": _text("Title of the post."),
        "text": _text("Text of the post."),
        "published_at": _text("When the post was published, ISO 8601."),
    },
}

CONTEXT: Schema = {
    "type": ["object", "null"],
    "description": "How the comment arrived; every field is optional.",
    "properties": {
        "referrer": _text("HTTP Referer of the comment form."),
        "honeypot": _text("Value of the hidden honeypot field (should be empty)."),
        "seconds_to_submit": _amount(
            "Seconds between showing the form and submitting it."
        ),
        "lang": _text("Language(s) of the site, e.g. 'en, fr_ca'."),
        "parent_id": _text("Id of the comment replied to."),
        "recheck_reason": _text("Why the comment is sent again, e.g. 'edit'."),
    },
}

SCORE_REQUEST: Schema = {
    "type": "object",
    "description": "A comment to score. Only content is required; "
    "unknown fields are ignored.",
    "required": ["content"],
    "properties": {
        "content": {
            "type": "string",
            "pattern": _TEXT_PATTERN,
            "description": "Text of the comment.",
        },
        "type": {
            **_text("Kind of item; custom values are accepted."),
            "examples": list(COMMENT_TYPES),
        },
        "author": AUTHOR,
        "post": POST,
        "context": CONTEXT,
        "client_id": _text("The engine's own id for this comment."),
    },
}

REASON: Schema = {
    "type": "object",
    "required": ["code", "message", "weight"],
    "properties": {
        "code": {"type": "string", "description": "Stable snake_case code."},
        "message": {"type": "string", "description": "One human sentence."},
        "weight": {"type": "number", "description": "Strength, in log-odds."},
    },
}

SCORE_RESPONSE: Schema = {
    "type": "object",
    "required": ["id", "verdict", "scores", "reasons", "model"],
    "properties": {
        "id": {"type": "string", "description": "Check id, used for feedback."},
        "verdict": {"type": "string", "enum": ["approve", "hold", "spam", "discard"]},
        "scores": {
            "type": "object",
            "required": ["spam", "low_value"],
            "properties": {
                "spam": {"type": "number", "minimum": 0, "maximum": 1},
                "low_value": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "reasons": {
            "type": "array",
            "items": REASON,
            "description": "Why, strongest first.",
        },
        "model": {"type": "string", "description": "Model version."},
    },
}

BATCH_REQUEST: Schema = {
    "type": "object",
    "required": ["comments"],
    "properties": {
        "comments": {
            "type": "array",
            "items": SCORE_REQUEST,
            "minItems": 0,
            "maxItems": 1000,
            "description": "Comments to score, in order.",
        }
    },
}

BATCH_RESPONSE: Schema = {
    "type": "object",
    "required": ["results"],
    "properties": {"results": {"type": "array", "items": SCORE_RESPONSE}},
}

FEEDBACK_REQUEST: Schema = {
    "type": "object",
    "description": "A moderator's label for a check (by id) "
    "or for a comment (sent again).",
    "required": ["label"],
    "properties": {
        "id": {"type": "string", "description": "Check id from a score response."},
        "comment": SCORE_REQUEST,
        "label": {"type": "string", "enum": ["spam", "low_value", "ham"]},
    },
    "anyOf": [{"required": ["id"]}, {"required": ["comment"]}],
}

FEEDBACK_RESPONSE: Schema = {
    "type": "object",
    "required": ["stored", "id"],
    "properties": {
        "stored": {"type": "boolean", "enum": [True]},
        "id": {"type": "string", "description": "Id of the stored feedback."},
        "check_id": {
            "type": ["string", "null"],
            "description": "The check it corrects.",
        },
    },
}

MODEL_RESPONSE: Schema = {
    "type": "object",
    "required": ["version", "trained_at", "training_data", "metrics", "thresholds"],
    "properties": {
        "version": {"type": "string"},
        "trained_at": {"type": ["string", "null"]},
        "training_data": {"type": "object"},
        "metrics": {"type": "object"},
        "thresholds": {"type": "object"},
        "allow_discard": {"type": "boolean"},
        "libraries": {"type": "object"},
    },
}

ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable snake_case code."},
                "message": {
                    "type": "string",
                    "description": "What was wrong and the fix.",
                },
            },
        }
    },
}

STATUS: Schema = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string"}, "model": {"type": "string"}},
}

USAGE_LIMIT: Schema = {
    "type": "object",
    "required": ["limit", "usage", "percentage", "throttled"],
    "properties": {
        "limit": {"type": ["integer", "string"], "description": "'none': unlimited."},
        "usage": {"type": "integer"},
        "percentage": {"type": "string"},
        "throttled": {"type": "boolean"},
        "notice_level": {"type": ["string", "null"]},
        "upgrade": {"type": ["string", "null"]},
    },
}

_AKISMET_FIELDS = {
    "api_key": "The API key (or send it as the host's first label).",
    "blog": "Front-page URL of the site.",
    "user_ip": "The commenter's IP address.",
    "user_agent": "The commenter's browser User-Agent.",
    "referrer": "HTTP Referer of the comment form.",
    "permalink": "URL of the post commented on.",
    "comment_type": "comment, reply, forum-post, contact-form, signup, message...",
    "content_type": "Alias of comment_type (Discourse).",
    "comment_author": "Name the commenter gave.",
    "comment_author_email": "E-mail the commenter gave.",
    "comment_author_url": "URL the commenter typed.",
    "comment_content": "Text of the comment.",
    "comment_post_modified_gmt": "When the post was published, ISO 8601.",
    "blog_lang": "Site languages, e.g. 'en, fr_ca'.",
    "user_role": "Commenter's roles; 'administrator' is never spam.",
    "honeypot_field_name": "Name of the hidden field; its value comes under that name.",
    "comment_parent": "Id of the comment replied to.",
    "recheck_reason": "Why the comment is checked again.",
    "is_test": "Set for test requests; their feedback is not stored.",
    "guid": "X-akismet-guid of the original check (submit-spam / submit-ham).",
}


def akismet_form(extra: dict[str, str] | None = None) -> Schema:
    """The form fields of an Akismet request (all optional, unknown ones ignored)."""
    fields = dict(_AKISMET_FIELDS, **(extra or {}))
    return {
        "type": "object",
        "properties": {
            name: {"type": "string", "description": d} for name, d in fields.items()
        },
    }


def batch_request(max_batch: int) -> Schema:
    """The batch request schema with the configured maximum number of comments."""
    schema = copy.deepcopy(BATCH_REQUEST)
    schema["properties"]["comments"]["maxItems"] = max_batch
    return schema


# --- validation -----------------------------------------------------------------------


class SchemaError(ValueError):
    """A request does not match its schema.

    Attributes:
        code: ``missing_field``, ``invalid_type``, ``invalid_text``, ``invalid_value``
            or ``too_many_items``.
        path: where, e.g. ``comments[3].author.followers``; empty for the body itself.
        keyword: the schema keyword that failed (``maxItems``...).
    """

    def __init__(self, code: str, path: str, message: str, keyword: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.path = path
        self.keyword = keyword


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_ARTICLE = {
    "object": "a JSON object",
    "array": "a JSON array",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _type_ok(found: str, value: object, allowed: list[str]) -> bool:
    if found in allowed:
        return True
    if found == "integer" and "number" in allowed:
        return True
    # 3.0 is an integer in JSON Schema.
    return found == "number" and "integer" in allowed and float(value).is_integer()  # type: ignore[arg-type]


def validate(schema: Schema, value: object, path: str = "") -> None:
    """Check a decoded JSON value against one of the schemas above.

    Args:
        schema: the schema.
        value: the decoded request body (or part of it).
        path: where ``value`` sits, for messages.

    Raises:
        SchemaError: the first mismatch, with a message naming the field.
    """
    where = f"'{path}'" if path else "the request body"
    allowed = schema.get("type")
    if allowed is not None:
        allowed = [allowed] if isinstance(allowed, str) else allowed
        found = _json_type(value)
        if not _type_ok(found, value, allowed):
            wanted = " or ".join(_ARTICLE[t] for t in allowed if t != "null")
            raise SchemaError(
                "invalid_type",
                path,
                f"{where} must be {wanted}, not {_ARTICLE.get(found, found)}",
                "type",
            )
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(str(v) for v in schema["enum"])
        raise SchemaError(
            "invalid_value", path, f"{where} must be one of: {options}", "enum"
        )
    if isinstance(value, str) and "pattern" in schema:
        pattern = _PATTERNS.get(schema["pattern"])
        if pattern is None:
            pattern = _PATTERNS.setdefault(
                schema["pattern"], re.compile(schema["pattern"])
            )
        if not pattern.search(value):
            raise SchemaError(
                "invalid_text",
                path,
                f"{where} contains control characters; send plain UTF-8 text",
                "pattern",
            )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_range(schema, value, path, where)
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                dotted = f"{path}.{name}" if path else name
                raise SchemaError(
                    "missing_field", dotted, f"'{dotted}' is required", "required"
                )
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                validate(sub, value[name], f"{path}.{name}" if path else name)
        if "anyOf" in schema and not any(
            all(name in value for name in option.get("required", ()))
            for option in schema["anyOf"]
        ):
            names = " or ".join(
                "'" + "', '".join(option["required"]) + "'"
                for option in schema["anyOf"]
            )
            raise SchemaError("missing_field", path, f"{where} needs {names}", "anyOf")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise SchemaError(
                "too_many_items",
                path,
                f"{where} holds {len(value)} items; "
                f"send at most {schema['maxItems']} per "
                "request",
                "maxItems",
            )
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise SchemaError(
                "invalid_value",
                path,
                f"{where} needs at least {schema['minItems']} items",
                "minItems",
            )
        if "items" in schema:
            for i, item in enumerate(value):
                validate(schema["items"], item, f"{path}[{i}]")


def _check_range(schema: Schema, value: int | float, path: str, where: str) -> None:
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")
    if number != number or number in (float("inf"), float("-inf")):
        raise SchemaError(
            "invalid_value", path, f"{where} must be a finite number", "type"
        )
    if "minimum" in schema and number < schema["minimum"]:
        raise SchemaError(
            "invalid_value",
            path,
            f"{where} must be {schema['minimum']} or more",
            "minimum",
        )
    if "maximum" in schema and number > schema["maximum"]:
        raise SchemaError(
            "invalid_value",
            path,
            f"{where} must be {schema['maximum']} or less",
            "maximum",
        )


# --- the OpenAPI document -------------------------------------------------------------


def _json(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed JSON or invalid UTF-8.",
        401: "No API key, or an unknown or revoked one.",
        404: "No such check for this key.",
        405: "Method not allowed.",
        413: "Body larger than the configured limit.",
        415: "Not application/json.",
        422: "Well-formed but invalid: wrong type, missing field, too many items.",
        429: "Over the key's rate limit; see Retry-After.",
        500: "Unexpected server error (a bug; logged).",
        503: "Not ready: no model loaded, or the store does not answer.",
    }
    return {
        str(status): {
            "description": text[status],
            "content": _json({"$ref": "#/components/schemas/Error"}),
        }
        for status in statuses
    }


_JSON_ERRORS = (400, 401, 413, 415, 422, 429, 503)


def _post_json(
    summary: str,
    request: str,
    response: str,
    status: int = 200,
    extra: tuple[int, ...] = (),
) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "security": [{"bearer": []}],
            "requestBody": {
                "required": True,
                "content": _json({"$ref": f"#/components/schemas/{request}"}),
            },
            "responses": {
                str(status): {
                    "description": "OK",
                    "content": _json({"$ref": f"#/components/schemas/{response}"}),
                },
                **_errors(*sorted(_JSON_ERRORS + extra)),
            },
        }
    }


def _text_response(description: str, *bodies: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"text/plain": {"schema": {"type": "string", "enum": list(bodies)}}},
    }


def _akismet(
    summary: str,
    bodies: tuple[str, ...],
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": False,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": akismet_form(extra)}
                },
            },
            "responses": {
                "200": _text_response(
                    "Akismet answer; 'invalid' for a bad key.", *bodies
                ),
                **_errors(413, 429, 503),
            },
        }
    }


def _get(
    summary: str,
    response: str,
    errors: tuple[int, ...] = (),
    media: str = "application/json",
) -> dict[str, Any]:
    if media == "application/json":
        content = _json({"$ref": f"#/components/schemas/{response}"})
    else:
        content = {media: {"schema": {"type": "string"}}}
    return {
        "get": {
            "summary": summary,
            "responses": {
                "200": {"description": "OK", "content": content},
                **_errors(*errors),
            },
        }
    }


def openapi(max_batch: int, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the service.

    Args:
        max_batch: the configured batch limit (the schema's ``maxItems``).
        version: the service's version string.

    Returns:
        The document, ready for ``json.dumps``.
    """
    usage = {
        "summary": "Akismet-compatible usage (unlimited).",
        "parameters": [
            {
                "name": "api_key",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
            },
            {
                "name": "extended",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
            },
        ],
        "responses": {
            "200": {
                "description": "Usage, or 'invalid' (text/plain) for a bad key.",
                "content": {
                    **_json({"$ref": "#/components/schemas/UsageLimit"}),
                    "text/plain": {"schema": {"type": "string", "enum": ["invalid"]}},
                },
            },
            **_errors(429, 503),
        },
    }
    submit = "Thanks for making the web a better place."
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "moderation",
            "version": version,
            "description": "Self-hosted comment moderation: explained spam and "
            "low-value "
            "verdicts, with Akismet-compatible routes.",
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/v1/score": _post_json(
                "Score one comment.", "ScoreRequest", "ScoreResponse"
            ),
            "/v1/score/batch": _post_json(
                "Score several comments, in order.", "BatchRequest", "BatchResponse"
            ),
            "/v1/feedback": _post_json(
                "Record a moderator's label, durably.",
                "FeedbackRequest",
                "FeedbackResponse",
                status=202,
                extra=(404,),
            ),
            "/v1/model": _get(
                "The loaded model: version, data, metrics, thresholds.",
                "ModelInfo",
                (503,),
            ),
            "/healthz": _get("200 while the process is up.", "Status"),
            "/readyz": _get(
                "200 when a model is loaded and the store answers.", "Status", (503,)
            ),
            "/metrics": _get("Prometheus metrics.", "", media="text/plain"),
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": _json({"type": "object"}),
                        }
                    },
                }
            },
            "/1.1/verify-key": _akismet(
                "Akismet verify-key.",
                ("valid", "invalid"),
                {"key": "The API key to verify."},
            ),
            "/1.1/comment-check": _akismet(
                "Akismet comment-check.", ("true", "false", "invalid")
            ),
            "/1.1/submit-spam": _akismet("Akismet submit-spam.", (submit, "invalid")),
            "/1.1/submit-ham": _akismet("Akismet submit-ham.", (submit, "invalid")),
            "/1.2/usage-limit": {
                "get": usage,
                "post": {**usage, "parameters": usage["parameters"]},
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "ScoreRequest": SCORE_REQUEST,
                "ScoreResponse": SCORE_RESPONSE,
                "BatchRequest": batch_request(max_batch),
                "BatchResponse": BATCH_RESPONSE,
                "FeedbackRequest": FEEDBACK_REQUEST,
                "FeedbackResponse": FEEDBACK_RESPONSE,
                "ModelInfo": MODEL_RESPONSE,
                "Status": STATUS,
                "UsageLimit": USAGE_LIMIT,
                "Error": ERROR,
            },
        },
    }
