"""The portal's RQ worker: `rq worker --worker-class jobs.worker.Worker`."""
import gc
from importlib import import_module

from rq.worker import Worker as ForkingWorker

from jobs import worker_app
from portal.networks.base import tls_context
from portal.notifications import messages

# The modules whose functions are enqueued (jobs/cron.py only registers them).
JOB_MODULES = ("jobs.deliver", "jobs.housekeeping", "jobs.mail", "jobs.renewal", "jobs.scan")


class Worker(ForkingWorker):
    """RQ's worker, which forks a process for every job, with the app built,
    the job modules imported, the notices' templates and languages loaded
    and the networks' TLS context made once, before the first fork.

    Each job's process inherits them. A plain `rq worker` forks a process
    that has none of them, so that every job imports its module and builds
    the app again: about a second of CPU per job. What is loaded by then is
    frozen out of the garbage collector (`gc.freeze`): a job's collections
    would otherwise walk every inherited object, writing to its memory, and
    so copy the worker's pages into the job's process one by one.
    """

    def bootstrap(self, *args, **kwargs):
        load_before_forking()
        super().bootstrap(*args, **kwargs)

    def main_work_horse(self, job, queue):
        # A database connection must not be shared across a fork: the job
        # opens its own, and leaves the worker's alone (SQLAlchemy's recipe).
        worker_app().extensions["keepalive.engine"].dispose(close=False)
        super().main_work_horse(job, queue)


def load_before_forking():
    """What every job's process inherits from its worker: the app, the job
    modules, the notices' templates and languages, the networks' TLS context;
    then frozen out of the garbage collector."""
    app = worker_app()
    for name in JOB_MODULES:
        import_module(name)
    with app.app_context():
        messages.preload()
    tls_context()
    gc.freeze()
