"""The scan (`jobs.scan.scan`, in-process) at growing numbers of credentials
with the same number due, and with ten times as many due.

    python -m bench.scan SIZES DUE MANY_DUE      e.g. 10000,100000,1000000 1000 10000

The deliveries it enqueues go to a private queue and are not run. One
database grows from the smallest size to the largest (only credentials that
are not due are added); the run with MANY_DUE due has a database of its own,
of the middle size. Writes bench/out/scan.json.
"""
import json
import os
import statistics
import sys
import time
from unittest.mock import patch

from rq import Queue
from sqlalchemy import delete

from bench import world
from jobs.renewal import renew_due
from jobs.scan import scan
from portal.db import new_session
from portal.models import Delivery, Notification
from portal.queue import LAST_SCAN, redis, redis_key

OUT = world.OUT
REPEATS = 3  # 1 from a million credentials up, to keep `make bench` short


def build(name, now):
    app = world.bench_app(f"sqlite:///{OUT}/{name}.sqlite",
                          QUEUE_NAME=f"{os.environ.get('QUEUE_NAME', 'bench')}-scan")
    world.create_schema(app)
    with app.app_context(), new_session() as session:
        world.organization_with_people(session, now)
        session.commit()
    return app


def grow(app, now, have, size, due):
    """Add profiles up to `size`; the first `due` (by id) are due a notice."""
    not_due = world.statuses(world.NOT_DUE_MIX)
    started = time.perf_counter()
    world.add_credentials(app, now, have + 1, size - have,
                          lambda profile_id: "expiring" if profile_id <= due else next(not_due))
    return time.perf_counter() - started


def forget(app):
    """Undo a scan: no notices, no deliveries, no last scan, an empty queue."""
    with new_session() as session:
        session.exec(delete(Delivery))
        session.exec(delete(Notification))
        session.commit()
    redis().delete(redis_key(LAST_SCAN))
    Queue(app.config["QUEUE_NAME"], connection=redis()).empty()


def measure(app, now, repeats):
    """Medians of `repeats` runs, each on a database no scan has seen, of:
    the scan; the scan without its first step (silent renewals); that step alone."""
    totals, notices, renewals = [], [], []
    with app.app_context():
        for _ in range(repeats):
            forget(app)
            totals.append(timed(scan, now))
            report = timed.result
            forget(app)
            with patch("jobs.scan.renew_due", lambda now: 0):
                notices.append(timed(scan, now))
            renewals.append(timed(renew_due, now))
        forget(app)
    return {"repeats": repeats, "seconds": statistics.median(totals), "notices_seconds": statistics.median(notices),
            "renew_due_seconds": statistics.median(renewals), "due": report.credentials,
            "notifications": report.notifications, "deliveries": len(report.deliveries),
            "renewals_enqueued": report.renewals}


def timed(function, *args):
    """Seconds `function(*args)` took; its result is left in `timed.result`."""
    started = time.perf_counter()
    timed.result = function(*args)
    return time.perf_counter() - started


def main(sizes, due, many_due):
    now = world.now()
    results = []
    app, have = build("scan", now), 0
    for size in sizes:
        seed_seconds = grow(app, now, have, size, due)
        results.append({"credentials": size, "seed_seconds": seed_seconds,
                        **measure(app, now, REPEATS if size < 1_000_000 else 1)})
        print(json.dumps(results[-1]), flush=True)
        have = size
    middle = sizes[len(sizes) // 2]
    many = build("scan-many", now)
    seed_seconds = grow(many, now, 0, middle, many_due)
    results.append({"credentials": middle, "seed_seconds": seed_seconds, **measure(many, now, REPEATS)})
    print(json.dumps(results[-1]), flush=True)
    (OUT / "scan.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main([int(size) for size in sys.argv[1].split(",")], int(sys.argv[2]), int(sys.argv[3]))
