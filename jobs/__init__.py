"""RQ jobs. Each runs inside an application context of its own process, and
takes ids and plain values, never ORM objects."""
from functools import wraps

from flask import has_app_context

_app = None


def worker_app():
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    return _app


def in_app_context(func):
    """Run `func` in the app's context: the caller's (a test's in-process
    worker), else the worker process's own app."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            return func(*args, **kwargs)
        with worker_app().app_context():
            return func(*args, **kwargs)

    return wrapper
