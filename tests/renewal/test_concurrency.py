"""Ten worker processes renewing one rotating credential at once: exactly one
refresh call reaches the network, the newest token is stored, nothing is
flagged. On SQLite and PostgreSQL, with the real Redis and real RQ workers."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, Worker
from rq.job import Job

from portal.networks import adapter_for
from portal.renewal.credentials import token_set
from tests.renewal.test_silent import connected

pytestmark = pytest.mark.slow

WORKERS = 10
RQ = str(Path(sys.executable).with_name("rq"))


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


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
    workers = [
        subprocess.Popen(
            [RQ, "worker", "--url", app.config["REDIS_URL"], "--name", f"{queue.name}-{n}", "--quiet", queue.name],
            env=env, stdout=log, stderr=log,
        )
        for n in range(WORKERS)
    ]
    try:
        wait_for(lambda: Worker.count(queue=queue) == WORKERS, 120, "ten workers to start")
        jobs = [
            queue.enqueue("jobs.renewal.renew_profile", profile.id, seen_version, True) for _ in range(WORKERS)
        ]
        wait_for(lambda: all(job.get_status(refresh=True) in ("finished", "failed") for job in jobs), 120,
                 "the jobs to finish")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        log.close()
    outcomes = sorted(Job.fetch(job.id, connection=connection).return_value() for job in jobs)
    assert outcomes == ["already_renewed"] * (WORKERS - 1) + ["renewed"], (tmp_path / "workers.log").read_text()
    assert len(live.calls("x", "refresh_token")) - refreshes_before == 1
    current = live.current(profile.id)
    assert not current.is_invalid and current.version == seen_version + 1
    newest = token_set(current)
    assert adapter_for("x").validate(newest).ok
    assert adapter_for("x").refresh(newest).access_token  # the stored refresh token is the live one
