"""The scan reads only what may be due: the SQL ranges of `may_be_due` hold
every credential the rule finds due, and leave out the far-off and the dead."""
from datetime import timedelta
from itertools import product

from sqlmodel import select

from jobs.renewal import may_be_due
from portal.db import utcnow
from portal.models import Credential
from portal.renewal.rules import RefreshPolicy, refresh_due
from tests import factories

HOURS = [None, -24 * 400, -24 * 40, -24 * 5, -2, 1, 24 * 3, 24 * 9, 24 * 11, 24 * 60, 24 * 400]


def test_every_due_credential_is_in_the_ranges(db):
    now = utcnow()
    org = factories.organization(db)
    cases = list(product(HOURS, HOURS, [None, -24 * 45, -24 * 5, -2], [False, True]))
    for n, (access, refresh_end, refreshed, has_refresh) in enumerate(cases):
        profile = factories.profile(db, org, network="tiktok", external_id=f"c{n}")
        factories.credential(
            db, profile,
            refresh_token="r" if has_refresh else None,
            expires_at=now + timedelta(hours=access) if access is not None else None,
            refresh_expires_at=now + timedelta(hours=refresh_end) if refresh_end is not None else None,
            last_refreshed_at=now + timedelta(hours=refreshed) if refreshed is not None else None,
            created_at=now - timedelta(days=50),
        )
    selected = set(db.exec(select(Credential.id).where(may_be_due(now))).all())
    everything = db.exec(select(Credential)).all()
    for policy in (RefreshPolicy(), RefreshPolicy(extends_access_token=True, min_token_age=timedelta(hours=24))):
        due = {c.id for c in everything if refresh_due(c, policy, now)}
        assert due and due <= selected, sorted(due - selected)
    # The dead and the far-off are left out.
    assert len(selected) < len(everything) / 2
