"""The HTTP service over the moderation library (Flask application factory).

Not built yet: see issue 3.
"""
