"""The scheduler's configuration, loaded the way `rq cron jobs/cron.py`
loads it: every periodic job, at its interval, on the app's queue."""
import sys
from pathlib import Path

from redis import Redis
from rq.cron import CronScheduler

import jobs

CRON_FILE = Path(__file__).resolve().parent.parent / "jobs" / "cron.py"
# The module name rq gives a configuration loaded from its file path.
CRON_MODULE = "rq_cron_config_cron_py"


def scheduler_of(app, monkeypatch):
    """An RQ cron scheduler with jobs/cron.py loaded for `app` (not started)."""
    monkeypatch.setattr(jobs, "worker_app", lambda: app)
    monkeypatch.delitem(sys.modules, CRON_MODULE, raising=False)
    scheduler = CronScheduler(Redis.from_url(app.config["REDIS_URL"]), logging_level="WARNING")
    scheduler.load_config_from_file(str(CRON_FILE))
    sys.modules.pop(CRON_MODULE, None)
    return scheduler


def test_the_scheduler_registers_every_periodic_job(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCAN_INTERVAL_SECONDS", 120)

    scheduler = scheduler_of(app, monkeypatch)

    queue = app.config["QUEUE_NAME"]
    assert sorted((job.func_name, job.interval, job.queue_name) for job in scheduler.get_jobs()) == [
        ("jobs.housekeeping.purge_expired_links", 3600, queue),  # links nobody can use any more
        ("jobs.renewal.check_health", 3600, queue),  # tokens without an expiry, checked once a day each
        ("jobs.renewal.warn_before_graph_version_ends", 86400, queue),  # 30 days before the Graph API version ends
        ("jobs.scan.scan", 120, queue),  # renewals, then notices: every SCAN_INTERVAL_SECONDS
    ]
