"""The scheduler's configuration, loaded the way `rq cron jobs/cron.py`
loads it: every periodic job, at its interval, on the app's queue."""


def test_the_scheduler_registers_every_periodic_job(app, cron_scheduler):
    queue = app.config["QUEUE_NAME"]
    assert sorted((job.func_name, job.interval, job.queue_name) for job in cron_scheduler.get_jobs()) == [
        ("jobs.housekeeping.purge_expired_links", 3600, queue),  # links nobody can use any more
        ("jobs.renewal.check_health", 3600, queue),  # tokens without an expiry, checked once a day each
        ("jobs.renewal.warn_before_graph_version_ends", 86400, queue),  # 30 days before the Graph API version ends
        ("jobs.scan.scan", app.config["SCAN_INTERVAL_SECONDS"], queue),  # renewals, then notices
    ]
    assert app.config["SCAN_INTERVAL_SECONDS"] == 120  # the app's own setting, not the default
