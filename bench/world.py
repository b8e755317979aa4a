"""Benchmark data: an agency with many profiles, written in bulk.

Credential times come from the demo's own rules (`devkit.demo.credential_plan`),
so every status looks as it does in the product. Rows are bulk-inserted with
SQLAlchemy Core (`insert()` executemany): a million rows take a minute or two,
where the ORM would take far longer.
"""
import os
from datetime import timedelta
from functools import lru_cache
from itertools import cycle, islice
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import SQLModel

from devkit.demo import ACCESS_LIFETIME, credential_plan, uses_refresh_token
from portal import create_app
from portal.auth.passwords import hash_password
from portal.crypto import seal
from portal.db import engine, new_session, utcnow
from portal.models import (
    Brand,
    BrandProfile,
    Credential,
    InvalidReason,
    Membership,
    Organization,
    RenewalAttempt,
    Role,
    SocialProfile,
    User,
)
from portal.networks import client_settings

# Where every run writes (run.sh sets it: the scripts run from a copy of the tree).
OUT = Path(os.environ.get("BENCH_OUT", "bench/out")).resolve()
PASSWORD = "bench-password"
OWNER = "owner@bench.test"
NETWORKS = list(ACCESS_LIFETIME)
REASONS = [reason for reason in InvalidReason]
BATCH = 20_000

# (status, share in percent): what a busy agency's profiles look like.
PAGES_MIX = [("valid", 70), ("no_expiry", 17), ("expiring", 6), ("expired", 3), ("invalid", 4)]
# Nothing here is due a notice: long-dead tokens are past the scan's look-back.
NOT_DUE_MIX = [("valid", 75), ("no_expiry", 15), ("expired", 5), ("invalid", 5)]


def now():
    # Whole seconds: the plans are cached per moment.
    return utcnow().replace(microsecond=0)


def bench_app(database_url, **config):
    """The product's app on the benchmark's database: no sandbox, and OAuth
    clients that are never called (the scan looks them up; nothing renews)."""
    clients = {name: "bench" for pair in client_settings() for name in pair}
    return create_app({"DATABASE_URL": database_url, "SANDBOX": False, **clients, **config})


def statuses(mix):
    """An endless, evenly spread sequence of statuses in the proportions of `mix`."""
    return cycle([status for status, share in mix for _ in range(share)])


@lru_cache(maxsize=None)
def plan(network, status, days, now):
    spec = {"network": network, "status": status, "days": days,
            "reason": REASONS[days % len(REASONS)], "token_type": "page" if network == "facebook" else "user"}
    return credential_plan(spec, now), uses_refresh_token(spec)


@lru_cache(maxsize=None)
def sealed(kind):
    # One ciphertext for every row: the pages and the scan never unseal tokens.
    return seal(f"bench-{kind}-token")


def days_for(status, n):
    """How far from its end a credential of `status` is (the n-th of its kind)."""
    if status == "expiring":
        return n % 7  # inside the 7-day window: due a notice
    if status == "valid":
        return 15 + n % 300
    return 5 + n % 60  # expired or invalid that long ago: told already


def credential_row(profile_id, network, status, n, now, superseded_at=None):
    times, refresh = plan(network, status, days_for(status, n), now)
    row = {key: value for key, value in times.items() if key != "has_refresh_token"}
    row.update(profile_id=profile_id, sealed_access_token=sealed("access"),
               sealed_refresh_token=sealed("refresh") if refresh else None, superseded_at=superseded_at)
    if superseded_at is not None:
        # An earlier grant, replaced when it was renewed.
        row.update(status="active", invalid_reason=None, invalidated_at=None,
                   created_at=superseded_at - timedelta(days=60), expires_at=superseded_at + timedelta(days=1))
    return row


def bulk(session, model, rows):
    rows = iter(rows)
    while batch := list(islice(rows, BATCH)):
        session.execute(insert(model), batch)


def create_schema(app):
    with app.app_context():
        SQLModel.metadata.create_all(engine())


def organization_with_people(session, now, managers=0):
    """An organization, its Owner, and `managers` Managers; returns (organization, [users])."""
    organization = Organization(name="Bench Agency", created_at=now)
    session.add(organization)
    session.flush()
    password_hash = hash_password(PASSWORD)
    emails = [OWNER] + [f"manager{i}@bench.test" for i in range(1, managers + 1)]
    people = []
    for email in emails:
        user = User(email=email, name=email.split("@")[0].title(), password_hash=password_hash)
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, organization_id=organization.id,
                               role=Role.OWNER if email == OWNER else Role.MANAGER, can_manage_profiles=True))
        people.append(user)
    session.flush()
    return organization, people


def profile_rows(organization_id, first_id, count, now):
    for profile_id in range(first_id, first_id + count):
        network = NETWORKS[profile_id % len(NETWORKS)]
        yield {"id": profile_id, "organization_id": organization_id, "network": network,
               "external_id": f"bench-{profile_id}", "name": f"Client {profile_id:07d} {network}",
               "handle": f"client{profile_id}", "created_at": now - timedelta(days=400)}


def seed_pages(app, now, profiles=1000, brands=10, history=5000):
    """Manage Accounts' world: `profiles` in `brands`, `history` superseded
    credentials, a renewal by the Owner on every third profile."""
    with app.app_context(), new_session() as session:
        organization, (owner,) = organization_with_people(session, now)
        brand_ids = []
        for i in range(brands):
            brand = Brand(organization_id=organization.id, name=f"Brand {i:02d}", created_at=now)
            session.add(brand)
            session.flush()
            brand_ids.append(brand.id)
        rows = list(profile_rows(organization.id, 1, profiles, now))
        bulk(session, SocialProfile, rows)
        links = [{"brand_id": brand_ids[row["id"] % brands], "profile_id": row["id"]} for row in rows]
        # One profile in twenty is shared by a second brand.
        links += [{"brand_id": brand_ids[(row["id"] + 1) % brands], "profile_id": row["id"]}
                  for row in rows if row["id"] % 20 == 0]
        bulk(session, BrandProfile, links)
        per_profile = history // profiles
        old = [credential_row(row["id"], row["network"], "valid", k, now,
                              superseded_at=now - timedelta(days=60 * (k + 1)))
               for row in rows for k in range(per_profile)]
        current = [credential_row(row["id"], row["network"], status, row["id"], now)
                   for row, status in zip(rows, statuses(PAGES_MIX))]
        bulk(session, Credential, old + current)
        bulk(session, RenewalAttempt, [
            {"profile_id": row["id"], "user_id": owner.id, "mode": "interactive", "outcome": "renewed",
             "started_at": now - timedelta(days=2), "finished_at": now - timedelta(days=2)}
            for row in rows if row["id"] % 3 == 0
        ])
        session.commit()
    return {"profiles": profiles, "brands": brands, "history": len(old)}


def add_credentials(app, now, first_id, count, status_of):
    """`count` profiles from id `first_id`, each with one current credential
    whose status is `status_of(profile id)`."""
    with app.app_context(), new_session() as session:
        organization_id = session.exec(Organization.__table__.select()).first().id
        for start in range(first_id, first_id + count, BATCH):
            size = min(BATCH, first_id + count - start)
            rows = list(profile_rows(organization_id, start, size, now))
            bulk(session, SocialProfile, rows)
            bulk(session, Credential, [credential_row(row["id"], row["network"], status_of(row["id"]),
                                                      row["id"], now) for row in rows])
            session.commit()
