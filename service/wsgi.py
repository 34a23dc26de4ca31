"""The WSGI entry point for production servers: ``gunicorn service.wsgi:app``.

The only module that calls ``create_app`` at import time.
"""

from service import create_app

app = create_app()
