from rq import cron

from jobs import worker_app
from jobs.housekeeping import purge_expired_links
from jobs.renewal import check_health, warn_before_graph_version_ends
from jobs.scan import scan

QUEUE_NAME = worker_app().config["QUEUE_NAME"]

cron.register(purge_expired_links, queue_name=QUEUE_NAME, interval=3600)
cron.register(scan, queue_name=QUEUE_NAME, interval=worker_app().config["SCAN_INTERVAL_SECONDS"])
cron.register(check_health, queue_name=QUEUE_NAME, interval=3600)
cron.register(warn_before_graph_version_ends, queue_name=QUEUE_NAME, interval=86400)
