"""Delivery: N due email notices sent by two real `rq worker` processes to an
SMTP server on loopback, and the same number of messages sent by a plain
smtplib loop over one connection, in the same run.

    python -m bench.delivery N sqlite|postgresql     writes bench/out/delivery-<database>.json

SQLite is the default database (a file); PostgreSQL (127.0.0.1:5432, database
`test`, as the tests use it) is the one for scale: a schema of this run's own,
dropped at the end.
"""
import json
import os
import resource
import signal
import smtplib
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlmodel import func, select

from bench import world
from jobs.scan import LOOKBACK, due_credentials, write_notices
from portal.config import database_url as sqlalchemy_url
from portal.db import locked_session, new_session
from portal.models import Delivery
from portal.notifications.outbox import enqueue_deliveries

OUT = world.OUT
RECIPIENTS = 5  # the Owner and four Managers: every due profile is told to each
WORKERS = 2
POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/test"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(name):
    """A counting SMTP server in a process of its own; yields (port, stats path)."""
    port, stats = free_port(), OUT / f"smtp-{name}.json"
    server = subprocess.Popen([sys.executable, "-m", "bench.smtp_counter", str(port), str(stats)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        yield port, stats
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def write_due_notices(app, messages, now):
    """A world where `messages` / RECIPIENTS profiles are due a notice to each
    recipient; the scan's own functions write the notices and enqueue their
    deliveries (its silent renewals are left out: they would call networks)."""
    world.create_schema(app)
    with app.app_context(), new_session() as session:
        world.organization_with_people(session, now, managers=RECIPIENTS - 1)
        session.commit()
    world.add_credentials(app, now, 1, messages // RECIPIENTS, lambda _: "expiring")
    with app.app_context():
        with locked_session() as session:
            due = due_credentials(session, now, now - LOOKBACK)
            _, deliveries = write_notices(session, due, now)
            session.commit()
        jobs = enqueue_deliveries(deliveries)
    return len(deliveries), len(jobs)


def children_cpu():
    """CPU seconds (user and system) of the processes this one has waited for, theirs included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_workers(database_url, port):
    """Two `rq worker --burst` processes until the queue is empty; (seconds
    taken, CPU seconds of the workers and of the job processes they forked)."""
    env = {**os.environ, "DATABASE_URL": database_url, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(port)}
    command = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--quiet", "--worker-class", "jobs.worker.Worker",
               "--url", os.environ["REDIS_URL"], os.environ["QUEUE_NAME"]]
    started, cpu = time.perf_counter(), children_cpu()
    workers = [subprocess.Popen(command, env=env) for _ in range(WORKERS)]
    for worker in workers:
        worker.wait()
    return time.perf_counter() - started, children_cpu() - cpu


def plain_loop(port, message, count):
    """`count` sends of one message over one smtplib connection; seconds taken."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for _ in range(count):
            connection.sendmail("keepalive@localhost", ["owner@bench.test"], message)
    return time.perf_counter() - started


@contextmanager
def database(kind):
    """The URL of an empty database of `kind`."""
    if kind == "sqlite":
        yield f"sqlite:///{OUT}/delivery.sqlite"
        return
    schema = f"bench_{os.getpid()}"
    admin = create_engine(sqlalchemy_url(POSTGRESQL))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield sqlalchemy_url(f"{POSTGRESQL}?options=-csearch_path%3D{schema}")
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main(messages, kind):
    with database(kind) as url:
        result = run(messages, url)
    (OUT / f"delivery-{kind}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


def run(messages, database_url):
    app = world.bench_app(database_url)
    deliveries, jobs = write_due_notices(app, messages, world.now())
    with smtp_server("workers") as (port, stats):
        seconds, cpu = run_workers(database_url, port)
    received = json.loads(stats.read_text())
    with app.app_context(), new_session() as session:
        outcome = dict(session.exec(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
    sample = stats.with_suffix(".eml").read_bytes()
    with smtp_server("plain") as (port, plain_stats):
        plain_seconds = plain_loop(port, sample, deliveries)
    plain = json.loads(plain_stats.read_text())
    result = {
        "deliveries": deliveries, "jobs": jobs, "workers": WORKERS, "message_bytes": len(sample),
        "seconds": seconds, "rate": received["count"] / seconds, "received": received["count"], "outcome": outcome,
        "worker_cpu_ms": cpu * 1000 / max(received["count"], 1),
        "smtp_span": received["last"] - received["first"],
        "plain_seconds": plain_seconds, "plain_rate": deliveries / plain_seconds, "plain_received": plain["count"],
    }
    app.extensions["keepalive.engine"].dispose()
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
