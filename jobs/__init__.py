"""RQ jobs. Each runs inside an application context of its own process, and
takes ids and plain values, never ORM objects."""
from functools import wraps

from flask import current_app, has_app_context

_app = None


def worker_app():
    global _app
    if _app is None:
        from portal import create_app

        _app = create_app()
    return _app


def in_app_context(func):
    """Run `func` in an application context of its own, so that each job has
    its own `g` and database session: of the caller's app where there is one
    (a test's in-process worker), else of the worker process's app."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else worker_app()
        with app.app_context():
            return func(*args, **kwargs)

    return wrapper
