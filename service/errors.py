"""One JSON error envelope for every error the service returns.

``{"error": {"code": "snake_case", "message": "what was wrong and the fix"}}`` with the
right status, whether the error is ours (``ApiError``), Werkzeug's (404, 405, 413...)
or an unexpected exception, which is logged with its traceback and answered with a
generic 500 body. Exception text never reaches a client. This module does not decide
which errors happen; the routes raise them.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, has_request_context, json, request
from werkzeug.exceptions import HTTPException

__all__ = ["ApiError", "error_response", "register_error_handlers"]

log = logging.getLogger("moderation.service")


class ApiError(Exception):
    """An error to send to the client as it is.

    Args:
        status: the HTTP status.
        code: a stable snake_case code.
        message: a sentence naming what was wrong and the remedy.
        headers: extra response headers (``WWW-Authenticate``...).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


_HTTP_ERRORS = {
    400: ("bad_request", "The request could not be read; check its syntax."),
    401: ("unauthorized", "Send an API key: 'Authorization: Bearer <key>'."),
    403: ("forbidden", "This key may not do that."),
    404: ("not_found", "There is no such route; see /openapi.json for the routes."),
    405: ("method_not_allowed", "This route does not accept {method}; use {allowed}."),
    406: ("not_acceptable", "This route answers in JSON or plain text only."),
    408: ("request_timeout", "The request body arrived too slowly; send it again."),
    411: ("length_required", "Send a Content-Length header."),
    413: (
        "payload_too_large",
        "The request body is larger than the {limit}-byte limit; send less "
        "(the limit is the setting MODERATION_MAX_BODY_BYTES).",
    ),
    414: ("uri_too_long", "The URL is too long."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    416: ("range_not_satisfiable", "Range requests are not supported."),
    429: ("rate_limited", "Too many requests; slow down and retry later."),
    431: ("headers_too_large", "The request headers are too large."),
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """The envelope as a Flask response."""
    if has_request_context():
        g.error_code = code
    body = json.dumps({"error": {"code": code, "message": message}})
    response = Response(body + "\n", status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return _unexpected(exc)
    code, message = _HTTP_ERRORS.get(
        status, ("client_error", "The request was refused.")
    )
    headers: dict[str, str] = {}
    if status == 405:
        valid = list(getattr(exc, "valid_methods", None) or [])
        shown = [m for m in valid if m not in ("HEAD", "OPTIONS")] or valid or ["GET"]
        message = message.format(method=request.method, allowed=" or ".join(shown))
        if valid:
            headers["Allow"] = ", ".join(valid)
    elif status == 413:
        message = message.format(limit=current_app.config.get("MAX_CONTENT_LENGTH"))
    return error_response(status, code, message, headers)


def _unexpected(exc: BaseException) -> Response:
    log.error(
        "unhandled exception",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"event": "error", "route": _route()},
    )
    return error_response(
        500,
        "internal_error",
        "The server failed to handle this request; the error is logged. "
        "Try again later.",
    )


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def register_error_handlers(app: Flask) -> None:
    """Route every error of ``app`` through the envelope."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
