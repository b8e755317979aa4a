"""A job for tests/test_worker.py, in a module that imports nothing of the
portal: what a job's process has, it got from its worker."""
import sys


def inherited():
    """Whether this job's process started with the app built and the
    delivery jobs imported, and the languages whose catalogue it has."""
    import jobs

    app = jobs._app
    languages = sorted(locale for locale, _ in app.extensions["babel"].instance.domain_instance.cache) if app else []
    return app is not None, "jobs.deliver" in sys.modules, languages
