"""Where a delivery's time goes: pyinstrument over one batch of pending
deliveries sent in-process (no worker, no contention) to the counting SMTP
server, on the SQLite delivery database of the last run (some deliveries are
left pending there when two workers met SQLite's lock).

    python -m bench.profile_delivery [N]
"""
import sys

from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer
from sqlmodel import select

from bench import world
from bench.delivery import smtp_server
from jobs.deliver import deliver
from portal.db import new_session
from portal.models import Delivery, DeliveryStatus


def main(count=50):
    with smtp_server("profile") as (port, _stats):
        app = world.bench_app(f"sqlite:///{world.OUT}/delivery.sqlite", MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        with app.app_context():
            with new_session() as session:
                ids = session.exec(select(Delivery.id).where(Delivery.status == DeliveryStatus.PENDING).limit(count)).all()
            profiler = Profiler(interval=0.0005)
            with profiler:
                counts = deliver(list(ids))
    tree = profiler.output_text(color=False, unicode=True, show_all=False)
    flat = profiler.output(ConsoleRenderer(color=False, unicode=True, flat=True))
    (world.OUT / "profile-delivery.txt").write_text(tree + "\n" + flat)
    print(counts)
    print(tree)
    print("\n".join(flat.splitlines()[:30]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
