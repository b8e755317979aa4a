"""The portal's RQ worker: real `rq worker` processes that fork a process per job."""
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from sqlmodel import select

from jobs.scan import scan
from portal.models import Delivery
from portal.notifications.outbox import enqueue_batch
from tests import factories
from tests.worker_probe import inherited

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def run_worker(app, worker_class):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": app.config["DATABASE_URL"],
                   "QUEUE_NAME": app.config["QUEUE_NAME"], "BASE_URL": "http://localhost",
                   "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(app.config["MAIL_PORT"])}
    finished = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", app.config["REDIS_URL"],
         "--worker-class", worker_class, app.config["QUEUE_NAME"]],
        cwd=ROOT, env=environment, capture_output=True, timeout=120,
    )
    assert finished.returncode == 0, finished.stderr.decode()


def queue_of(app):
    return Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"]))


def test_each_job_inherits_the_app_of_its_worker(app):
    queue = queue_of(app)
    ours = [queue.enqueue(inherited) for _ in range(2)]
    run_worker(app, "jobs.worker.Worker")
    plain = queue.enqueue(inherited)
    run_worker(app, "rq.worker.Worker")

    languages = ["de", "en", "fr", "nl"]
    assert [job.return_value() for job in ours] == [(True, True, languages)] * 2
    assert plain.return_value() == (False, False, [])


def test_the_worker_delivers_in_a_process_per_job(smtp_server, app, session, app_context):
    org = factories.organization(session, name="Northwind")
    owners = [factories.member(session, org, role="owner", email=f"owner{n}@example.test") for n in range(3)]
    for name in ("Northwind Café", "Contoso"):
        page = factories.profile(session, org, name=name)
        factories.credential(session, page, expires_in=timedelta(days=3) - timedelta(minutes=1))
    session.close()
    app.extensions["keepalive.engine"].dispose()  # the worker's processes share the SQLite file from here on
    report = scan()
    queue_of(app).empty()
    for delivery_id in report.deliveries:  # a job each: several job processes of one worker
        enqueue_batch([delivery_id])

    run_worker(app, "jobs.worker.Worker")

    assert sorted(m["To"] for m in smtp_server) == sorted(o.email for o in owners * 2)
    assert [d.status for d in session.exec(select(Delivery)).all()] == ["sent"] * 6
