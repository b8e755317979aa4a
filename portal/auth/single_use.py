"""Spending a single-use link (a password reset, an invitation, a sign-up's
confirmation) once, however many requests race for it."""
from sqlmodel import update


def claim(session, model, row_id, spent, now, *still):
    """Set the `spent` column (its name) of `model`'s row `row_id` to `now`,
    if it is not set yet, the row has not expired and every condition of
    `still` holds: a conditional update, so that of two requests racing each
    other one wins. True if this one did; the one that lost is rolled back.

    Call it with nothing unsaved in `session`: it starts from a fresh
    transaction, because SQLite keeps the snapshot of the read that found the
    link, and a write from a stale snapshot fails outright."""
    session.rollback()
    claimed = session.exec(
        update(model)
        .where(model.id == row_id, getattr(model, spent).is_(None), model.expires_at > now, *still)
        .values({spent: now})
    ).rowcount
    if claimed != 1:
        session.rollback()
    return claimed == 1
