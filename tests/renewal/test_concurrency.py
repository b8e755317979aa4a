"""Ten worker processes renewing one rotating credential at once: exactly one
refresh call reaches the network, the newest token is stored, nothing is
flagged. On SQLite and PostgreSQL, with the real Redis and real RQ workers
(the portal's worker class, forked from one process that built the app:
tests/worker_fleet.py)."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue, Worker
from rq.job import Job

from portal.db import locked_session
from portal.networks import adapter_for
from portal.renewal.credentials import current_credential, token_set
from portal.renewal.silent import Result, renew_silently
from tests.renewal.test_silent import connected

pytestmark = pytest.mark.slow

WORKERS = 10
ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop(fleet):
    """The workers asked to stop (SIGTERM: each finishes its job first), killed
    after a grace period, so that whatever failed the test is what it says."""
    fleet.terminate()
    try:
        fleet.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(fleet.pid, signal.SIGKILL)  # the fleet and every worker it forked
        fleet.wait()


def test_ten_workers_make_one_refresh_call(live, session, app, instance_dir, tmp_path):
    profile, credential = connected(live, session, "x")
    seen_version = credential.version
    refreshes_before = len(live.calls("x", "refresh_token"))
    connection = Redis.from_url(app.config["REDIS_URL"])
    queue = Queue(app.config["QUEUE_NAME"], connection=connection)
    env = {
        **os.environ,
        "KEEPALIVE_INSTANCE": str(instance_dir),  # the same token keys as this app
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "QUEUE_NAME": app.config["QUEUE_NAME"],
        "SANDBOX": "1",
        "BASE_URL": live.base_url,
        "SANDBOX_BASE_URL": live.base_url,
        "SANDBOX_DATABASE_URL": app.config["SANDBOX_DATABASE_URL"],
    }
    log = open(tmp_path / "workers.log", "wb")  # noqa: SIM115  (closed below)
    fleet = subprocess.Popen(
        [sys.executable, "-m", "tests.worker_fleet", str(WORKERS), queue.name, app.config["REDIS_URL"]],
        cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
    )
    try:
        wait_for(lambda: Worker.count(queue=queue) == WORKERS, 120, "ten workers to start")
        jobs = [
            queue.enqueue("jobs.renewal.renew_profile", profile.id, seen_version, True) for _ in range(WORKERS)
        ]
        wait_for(lambda: all(job.get_status(refresh=True) in ("finished", "failed") for job in jobs), 120,
                 "the jobs to finish")
    finally:
        stop(fleet)
        log.close()
    outcomes = sorted(Job.fetch(job.id, connection=connection).return_value() for job in jobs)
    assert outcomes == ["already_renewed"] * (WORKERS - 1) + ["renewed"], (tmp_path / "workers.log").read_text()
    assert len(live.calls("x", "refresh_token")) - refreshes_before == 1
    current = live.current(profile.id)
    assert not current.is_invalid and current.version == seen_version + 1
    newest = token_set(current)
    assert adapter_for("x").validate(newest).ok
    assert adapter_for("x").refresh(newest).access_token  # the stored refresh token is the live one


def test_a_renewal_waits_for_the_credentials_lock_then_finds_it_already_renewed(live, session, app, database):
    """The credential's lock is held in one connection (as by a worker in the
    middle of its refresh); a second renewal, which saw the version before,
    waits at the lock, and when the holder commits a renewed credential it
    answers "already renewed" without calling the network."""
    profile, credential = connected(live, session, "x")
    seen_version = credential.version
    refreshes_before = len(live.calls("x", "refresh_token"))
    engine = app.extensions["keepalive.engine"]
    renewer, at_the_lock, done, outcome = [], threading.Event(), threading.Event(), {}

    def taking_the_lock(conn, cursor, statement, *args):
        # SQLite: the write lock is taken by BEGIN IMMEDIATE; PostgreSQL: the row's, by SELECT ... FOR UPDATE.
        if threading.get_ident() in renewer and (statement.startswith("BEGIN IMMEDIATE") or "FOR UPDATE" in statement):
            outcome["backend"] = getattr(getattr(conn.connection.dbapi_connection, "info", None), "backend_pid", None)
            at_the_lock.set()

    def renew():
        renewer.append(threading.get_ident())
        with app.app_context():
            outcome["result"] = renew_silently(profile.id, adapter_for("x"), seen_version=seen_version, force=True)
        done.set()

    sa.event.listen(engine, "before_cursor_execute", taking_the_lock)
    second = threading.Thread(target=renew)
    try:
        with app.app_context(), locked_session() as holder:
            held = current_credential(holder, profile.id, for_update=True)
            second.start()
            assert at_the_lock.wait(10), "the second renewal never asked for the lock"
            if database["kind"] == "postgresql":
                wait_for(lambda: blocked_by(holder, outcome["backend"]), 10, "the second renewal to wait for the row lock")
            assert not done.is_set()  # it cannot go on while the lock is held
            held.version += 1  # what the holder's refresh commits
            holder.add(held)
            holder.commit()
        second.join(20)
    finally:
        sa.event.remove(engine, "before_cursor_execute", taking_the_lock)
    assert not second.is_alive()
    assert outcome["result"].result == Result.ALREADY_RENEWED
    assert len(live.calls("x", "refresh_token")) == refreshes_before
    assert live.current(profile.id).version == seen_version + 1


def blocked_by(holder, backend_pid):
    """Whether PostgreSQL backend `backend_pid` waits for a lock the holder's connection holds."""
    holder_pid = holder.exec(sa.text("SELECT pg_backend_pid()")).scalar_one()
    blockers = holder.exec(sa.text("SELECT pg_blocking_pids(:pid)"), params={"pid": backend_pid}).scalar_one()
    return holder_pid in blockers
