"""The batch protocol: how a job claims a delivery, records how it went, and
commits, so that no delivery is sent twice and none is lost.

Each delivery is claimed before it is sent (pending -> sending, a
conditional UPDATE that one worker wins) and marked sent after, so a job
that runs again (a retry, an abandoned job requeued, a duplicate enqueue)
skips everything already sent or being sent elsewhere. A job reads what its
batch needs at once, then spends one commit per delivery: its claim, which
also records how the delivery before it went (the batch's last outcome has
a commit of its own).

The one window no outbox can close: the receiver has accepted a message
(the SMTP server's "250" after DATA) and the worker dies before the commit
that marks the delivery sent (the next claim's). That delivery stays
"sending". When RQ requeues the dead worker's job (its StartedJobRegistry
cleanup, once the heartbeat lapsed), the job finds the delivery it had in
flight in its own `job.meta` and sends it again: the recipient may then get
that one message twice, which is preferred to losing a notice. Every other
delivery is sent exactly once.

A message that fails on its own (it cannot be written, or the sender
refuses it: a header Flask-Mail refuses, a Slack address that is no URL)
fails alone, for good (`Batch.alone`): the rest of its batch is sent, and
the job is not tried again for it.
"""
import logging
from functools import cache

from sqlalchemy import bindparam, update
from sqlalchemy.exc import SQLAlchemyError

from portal.db import utcnow
from portal.models import Delivery, DeliveryStatus

log = logging.getLogger("keepalive.deliver")

IN_FLIGHT = "in_flight"  # job.meta: the deliveries a dead worker may have left "sending", for a requeued job


@cache
def statements(model):
    """The claim and the outcome of a delivery of `model`, built once: they
    run once per message. Core statements on the table, so they leave alone
    any object of their row in the session (a sender reads a delivery's row
    after claiming it, never after it). The outcome's SET names the columns
    its parameters give."""
    table = model.__table__
    claim = (update(table)
             .where(table.c.id == bindparam("delivery_id"), table.c.status.in_(bindparam("states", expanding=True)))
             .values(status=DeliveryStatus.SENDING, attempts=table.c.attempts + 1))
    outcome = update(table).where(table.c.id == bindparam("delivery_id"), table.c.status == DeliveryStatus.SENDING)
    return claim, outcome


def error_text(error):
    """An error in a line: its kind, and what it says when it says anything."""
    return ": ".join(filter(None, (type(error).__name__, str(error))))


def last_try(job):
    """Whether this run of `job` is its last: without retries left (or
    without RQ), a transient failure is final."""
    return job is None or not job.retries_left


class TransientDeliveryError(Exception):
    """Some deliveries of the batch could not be sent yet; RQ retries the job."""


class Batch:
    """Claims and outcomes of the deliveries of one job, and its counts by outcome.

    Nothing is written until `commit`, which a sender calls before it talks
    to the outside world: a claim is committed before its delivery is sent,
    and an outcome with the next claim (or the batch's last commit).
    """

    def __init__(self, session, job, counts, model=Delivery):
        self.session, self.job, self.counts, self.model = session, job, counts, model
        self.resumable = set(job.meta.get(IN_FLIGHT) or ()) if job is not None else set()
        self.final = last_try(job)
        self.outcomes = []  # (delivery id, values) to write with the next commit
        self.written = []  # ids whose outcome is written in the open transaction
        self.claimed = None  # claimed by this job, outcome not known yet
        self.retry = False  # some delivery must be tried again

    def claim(self, delivery_id):
        """Take the delivery for this job; False if it is sent, failed, or
        being sent by another job (counted as skipped). The delivery this
        job had in flight when its worker died is taken back."""
        self._write_outcomes()
        pending = DeliveryStatus.PENDING
        states = [pending, DeliveryStatus.SENDING] if delivery_id in self.resumable else [pending]
        claim, _ = statements(self.model)
        result = self.session.execute(claim, {"delivery_id": delivery_id, "states": states})
        if result.rowcount != 1:
            self.counts["skipped"] += 1
            return False
        self.claimed = delivery_id
        return True

    def claimable(self, delivery_id, status):
        """Whether this job may claim a delivery found in `status`."""
        return status == DeliveryStatus.PENDING or (status == DeliveryStatus.SENDING and delivery_id in self.resumable)

    def finish(self, delivery_id, status, error=None, **extra):
        """Record how a claimed delivery went (written by the next commit);
        returns the status recorded."""
        values = {"status": status, "last_error": error, **extra}
        if status == DeliveryStatus.SENT:
            values["sent_at"] = utcnow()
        if status == DeliveryStatus.PENDING and self.final:
            values["status"] = DeliveryStatus.FAILED
        self.outcomes.append((delivery_id, values))
        if delivery_id == self.claimed:
            self.claimed = None
        return values["status"]

    def alone(self, delivery_id, action, *args):
        """What `action(*args)` returns, or None when it raises: the claimed
        delivery then fails for good, alone (`fail_alone`). A database error
        is not the message's: it still ends the job."""
        try:
            return action(*args)
        except SQLAlchemyError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever this message did, the others are sent
            self.fail_alone(delivery_id, error)
            return None

    def fail_alone(self, delivery_id, error):
        """A claimed delivery that cannot be sent whatever the receiver does:
        failed for good, its error logged whole and recorded in a line."""
        log.error("delivery %s cannot be sent", delivery_id, exc_info=error)
        self.finish(delivery_id, DeliveryStatus.FAILED, error_text(error)[:500])
        self.counts[DeliveryStatus.FAILED] += 1

    def obsolete(self, delivery_id, error=None):
        """A claimed delivery whose notice no longer holds: not sent."""
        self.finish(delivery_id, DeliveryStatus.OBSOLETE, error)
        self.counts[DeliveryStatus.OBSOLETE] += 1

    def settle(self, delivery_id, kind, detail, **extra):
        """Record how a send went (`kind`: None when it was taken, else the
        failure's kind, "permanent" or another, with its detail)."""
        if kind is None:
            self.finish(delivery_id, DeliveryStatus.SENT, **extra)
            self.counts[DeliveryStatus.SENT] += 1
        elif kind == "permanent":
            self.finish(delivery_id, DeliveryStatus.FAILED, detail, **extra)
            self.counts[DeliveryStatus.FAILED] += 1
            log.warning("delivery %s failed for good: %s", delivery_id, detail)
        else:
            status = self.finish(delivery_id, DeliveryStatus.PENDING, detail, **extra)
            self.postpone(1 if status == DeliveryStatus.PENDING else 0)
            if status != DeliveryStatus.PENDING:
                self.counts[DeliveryStatus.FAILED] += 1
            log.info("delivery %s postponed: %s", delivery_id, detail)

    def postpone(self, count):
        """`count` deliveries stay pending, for the job's retry."""
        self.counts["retry"] += count
        self.retry |= count > 0

    def commit(self):
        """Write the claims and outcomes so far. Before that, job.meta names
        every delivery this commit moves out of "sending" or leaves in it, so
        that whether the worker dies before or after the commit, a requeued
        job takes back what it left "sending" (one it finds sent is passed
        over)."""
        self._write_outcomes()
        in_flight = self.written + ([self.claimed] if self.claimed is not None else [])
        if self.job is not None and self.job.meta.get(IN_FLIGHT) != in_flight:
            self.job.meta[IN_FLIGHT] = in_flight
            self.job.save_meta()
        self.session.commit()
        self.written = []

    def _write_outcomes(self):
        _, outcome = statements(self.model)
        for delivery_id, values in self.outcomes:
            self.session.execute(outcome, {"delivery_id": delivery_id, **values})
            self.written.append(delivery_id)
        self.outcomes.clear()
