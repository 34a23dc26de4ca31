"""The HTTP service over the moderation library: ``create_app`` builds the Flask app.

As in Flask's flaskr tutorial, ``create_app(settings=None)`` uses the real settings by
default and a test's own when given. It loads and verifies the model once (per worker
process) and opens the store, keeping both in ``app.extensions["moderation"]``; if
either fails the app still starts and ``/readyz`` says why. Nothing happens at import:
only ``service.wsgi`` calls the factory at module level.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from moderation.config import Settings, load_settings
from moderation.errors import StoreError

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Flask:
    """Build the service.

    Args:
        settings: the settings to use (default: ``load_settings()``).

    Returns:
        The Flask application, with the model loaded and the store open if possible.

    Raises:
        ConfigError: invalid settings (only when ``settings`` is not given).
    """
    from importlib.metadata import version

    from service import schemas, telemetry
    from service.akismet import akismet
    from service.api import ops, v1
    from service.errors import error_response, register_error_handlers
    from service.runtime import EXTENSION, Runtime

    settings = settings if settings is not None else load_settings()
    telemetry.configure_logging()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_body_bytes,
        MODERATION_BATCH_SCHEMA=schemas.batch_request(settings.max_batch),
        MODERATION_OPENAPI=schemas.openapi(settings.max_batch, version("moderation")),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if settings.forwarded_hops:
        hops = settings.forwarded_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    runtime = Runtime(settings)
    runtime.load_model()
    runtime.open_store()
    app.extensions[EXTENSION] = runtime
    telemetry.set_model(runtime.moderator.version if runtime.moderator else None)

    register_error_handlers(app)

    @app.errorhandler(StoreError)
    def _store_error(exc: StoreError) -> Response:
        telemetry.log.error("store error: %s", exc, extra={"event": "store_error"})
        return error_response(
            503,
            "store_unavailable",
            "The store could not be read or written; nothing was stored. "
            "Retry shortly.",
        )

    telemetry.install(app, log_content=settings.log_content)
    app.register_blueprint(v1)
    app.register_blueprint(ops)
    app.register_blueprint(akismet)
    return app
