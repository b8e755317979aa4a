"""An SMTP server on loopback that only counts what it receives (aiosmtpd).

    python -m bench.smtp_counter PORT STATS.json

Prints "ready" once it listens; on SIGTERM writes {count, first, last} (Unix
times of the first and last message) and the first message, beside STATS.
"""
import json
import signal
import sys
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self):
        self.count = 0
        self.first = self.last = None
        self.sample = None

    async def handle_DATA(self, server, session, envelope):
        self.last = time.time()
        self.first = self.first or self.last
        self.count += 1
        if self.sample is None:
            self.sample = envelope.original_content
        return "250 OK"


def main(port, stats):
    # Blocked before the server's thread starts, so that only sigwait sees it.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.sigwait({signal.SIGTERM})
    controller.stop()
    stats = Path(stats)
    stats.write_text(json.dumps({"count": counter.count, "first": counter.first, "last": counter.last}))
    if counter.sample:
        stats.with_suffix(".eml").write_bytes(counter.sample)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
