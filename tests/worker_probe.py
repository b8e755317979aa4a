"""A job for tests/test_worker.py, in a module that imports nothing of the
portal: what a job's process has, it got from its worker."""
import sys


def inherited():
    """Whether this job's process started with the app built and the
    delivery jobs imported."""
    import jobs

    return jobs._app is not None, "jobs.deliver" in sys.modules
