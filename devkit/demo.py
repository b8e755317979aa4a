"""The demo world: an agency, its people and the social profiles of its
clients, in every state a token can be in.

The world is data (`demo_world()`), so that the same accounts can be given
to a local network later; `seed_demo()` writes it to the database. Times are
relative to the moment of seeding, and seeding twice changes nothing: rows
are found by their natural keys and only missing ones are added.
"""
import copy
import secrets
from datetime import timedelta

import httpx2
from flask import current_app
from sqlmodel import select

from portal.audit import audit_row
from portal.auth.passwords import hash_password
from portal.crypto import seal
from portal.db import new_session, utcnow
from portal.models import (
    PAGE_TOKEN,
    SYSTEM_USER_TOKEN,
    Brand,
    BrandProfile,
    CanRenew,
    Credential,
    CredentialState,
    Membership,
    NativeRole,
    Organization,
    ProfileAccess,
    Role,
    SocialProfile,
    User,
)
from portal.networks import NETWORKS
from portal.versions import changed

DEMO_PASSWORD = "keepalive-demo"
ORGANIZATION = "Northwind Agency"

CAFE, FITNESS, BOOKS = "Northwind Café", "Harbor Fitness", "Bluebell Books"
# Bluebell Books' Facebook Page uses a token Business Manager generated for this system user.
SYSTEM_USER_EMAIL = "system-user@bluebell.example"
BRANDS = [CAFE, FITNESS, BOOKS]

OWNER, MANAGER, MEMBER = "owner@demo.test", "manager@demo.test", "member@demo.test"
PEOPLE = [
    {"email": OWNER, "name": "Olivia Hart", "role": Role.OWNER, "can_manage_profiles": True},
    {"email": MANAGER, "name": "Marcus Lee", "role": Role.MANAGER, "can_manage_profiles": True},
    {"email": MEMBER, "name": "Mia Santos", "role": Role.MEMBER, "can_manage_profiles": True},
]

# How long a freshly issued access token lives (docs/networks.md).
ACCESS_LIFETIME = {
    "facebook": timedelta(days=60),
    "instagram_business": timedelta(days=60),
    "instagram": timedelta(days=60),
    "threads": timedelta(days=60),
    "x": timedelta(hours=2),
    "linkedin_personal": timedelta(days=60),
    "linkedin_company": timedelta(days=60),
    "youtube": timedelta(hours=1),
    "google_business": timedelta(hours=1),
    "tiktok": timedelta(hours=24),
    "pinterest": timedelta(days=30),
}

# Networks whose grants carry a refresh token, and how long it lives from
# consent (None: no fixed end).
REFRESH_LIFETIME = {
    "x": None,
    "linkedin_personal": timedelta(days=365),
    "linkedin_company": timedelta(days=365),
    "youtube": None,
    "google_business": None,
    "tiktok": timedelta(days=365),
    "pinterest": timedelta(days=60),
}

# What the network calls the role that lets a person renew.
NATIVE_ROLE = {
    "facebook": "Full control",
    "instagram_business": "Full control (via the Page)",
    "instagram": "Account owner",
    "threads": "Account owner",
    "x": "Account owner",
    "linkedin_personal": "Member",
    "linkedin_company": "Super admin",
    "youtube": "Owner",
    "google_business": "Owner",
    "tiktok": "Account owner",
    "pinterest": "Account owner",
}

# Each profile: where it lives, the state its token is in ("status": valid,
# expiring, expired (by time), invalid (with "reason"), no_expiry; "days" to
# or since the expiry), who may do what, and who consented.
_PROFILES = [
    # Northwind Café
    {"network": "facebook", "external_id": "demo-fb-page-1001", "name": "Northwind Café",
     "handle": "northwindcafe", "brands": [CAFE], "status": "valid", "days": 62, "token_type": "page",
     "granted_by": OWNER, "history": 1, "access": {MEMBER: "admin"},
     "native": {OWNER: "yes", MANAGER: "yes", MEMBER: "yes"}},
    {"network": "instagram_business", "external_id": "demo-igb-2001", "name": "Northwind Café",
     "handle": "northwindcafe", "brands": [CAFE], "status": "invalid", "reason": "password_changed",
     "days": 2, "granted_by": MEMBER, "access": {MEMBER: "admin"},
     "native": {MEMBER: "yes", MANAGER: ("no", "Partial access"), OWNER: ("unknown", "")}},
    {"network": "instagram", "external_id": "demo-ig-3001", "name": "Northwind Roastery",
     "handle": "northwind.roastery", "brands": [CAFE], "status": "expiring", "days": 3,
     "granted_by": OWNER, "access": {MEMBER: "admin"}, "native": {MEMBER: ("unknown", "")}},
    {"network": "threads", "external_id": "demo-th-4001", "name": "Northwind Café",
     "handle": "northwindcafe", "brands": [CAFE], "status": "valid", "days": 45,
     "granted_by": OWNER, "access": {MEMBER: "editor"}},
    {"network": "x", "external_id": "demo-x-5001", "name": "Northwind Café",
     "handle": "NorthwindCafe", "brands": [CAFE], "status": "no_expiry", "granted_by": OWNER},
    {"network": "google_business", "external_id": "demo-gbp-6001", "name": "Northwind Café · Harbour Street",
     "handle": "", "brands": [CAFE], "status": "invalid", "reason": "permission_revoked", "days": 5,
     "granted_by": MANAGER, "history": 1},
    {"network": "tiktok", "external_id": "demo-tt-7001", "name": "Northwind Café",
     "handle": "northwindcafe", "brands": [CAFE], "status": "valid", "days": 300, "granted_by": OWNER},
    {"network": "youtube", "external_id": "demo-yt-8001", "name": "Northwind Kitchen",
     "handle": "@northwindkitchen", "brands": [CAFE], "status": "expiring", "days": 6,
     "granted_by": OWNER, "access": {MEMBER: "viewer"}},
    {"network": "pinterest", "external_id": "demo-pin-9001", "name": "Northwind Café Recipes",
     "handle": "northwindrecipes", "brands": [CAFE, BOOKS], "status": "expiring", "days": 1,
     "granted_by": MEMBER, "access": {MEMBER: "admin"}, "native": {MEMBER: "yes"}},
    {"network": "linkedin_company", "external_id": "demo-li-org-10001", "name": "Northwind Hospitality Group",
     "handle": "northwind-hospitality", "brands": [CAFE, FITNESS, BOOKS], "status": "valid", "days": 200,
     "granted_by": OWNER, "history": 1},
    # Harbor Fitness
    {"network": "facebook", "external_id": "demo-fb-page-1101", "name": "Harbor Fitness",
     "handle": "harborfitness", "brands": [FITNESS], "status": "invalid", "reason": "role_changed",
     "days": 1, "token_type": "page", "granted_by": OWNER, "history": 1, "access": {MEMBER: "viewer"},
     "native": {OWNER: "yes", MANAGER: ("no", "Partial access (Content)"),
                MEMBER: ("no", "Partial access (Insights)")}},
    {"network": "facebook", "external_id": "demo-fb-page-1102", "name": "Harbor Fitness Kids Club",
     "handle": "harborkidsclub", "brands": [FITNESS], "status": "invalid", "reason": "app_removed",
     "days": 4, "token_type": "page", "granted_by": MANAGER, "native": {OWNER: ("unknown", "")}},
    {"network": "instagram_business", "external_id": "demo-igb-2101", "name": "Harbor Fitness",
     "handle": "harborfitness", "brands": [FITNESS], "status": "invalid", "reason": "checkpoint",
     "days": 1, "granted_by": OWNER, "access": {MEMBER: "viewer"}},
    {"network": "instagram", "external_id": "demo-ig-3101", "name": "Harbor Coaches",
     "handle": "harbor.coaches", "brands": [FITNESS], "status": "expired", "days": 2, "granted_by": OWNER},
    {"network": "threads", "external_id": "demo-th-4101", "name": "Harbor Fitness",
     "handle": "harborfitness", "brands": [FITNESS], "status": "invalid", "reason": "expired",
     "days": 3, "granted_by": OWNER},
    {"network": "x", "external_id": "demo-x-5101", "name": "Harbor Fitness",
     "handle": "HarborFit", "brands": [FITNESS], "status": "invalid", "reason": "unknown",
     "days": 1, "granted_by": MANAGER},
    {"network": "linkedin_personal", "external_id": "demo-li-person-11101", "name": "Dana Whitfield",
     "handle": "dana-whitfield", "brands": [FITNESS], "status": "expiring", "days": 6,
     "refresh": False, "granted_by": MANAGER},
    {"network": "youtube", "external_id": "demo-yt-8101", "name": "Harbor Fitness TV",
     "handle": "@harborfitnesstv", "brands": [FITNESS], "status": "no_expiry", "granted_by": MANAGER},
    {"network": "google_business", "external_id": "demo-gbp-6101", "name": "Harbor Fitness · Pier 4",
     "handle": "", "brands": [FITNESS], "status": "no_expiry", "granted_by": OWNER},
    {"network": "tiktok", "external_id": "demo-tt-7101", "name": "Harbor Fitness",
     "handle": "harborfitness", "brands": [FITNESS], "status": "expiring", "days": 3,
     "granted_by": OWNER, "access": {MEMBER: "admin"}},
    {"network": "pinterest", "external_id": "demo-pin-9101", "name": "Harbor Fitness Workouts",
     "handle": "harborworkouts", "brands": [FITNESS], "status": "valid", "days": 50, "granted_by": OWNER},
    {"network": "linkedin_company", "external_id": "demo-li-org-10101", "name": "Harbor Fitness",
     "handle": "harbor-fitness", "brands": [FITNESS], "status": "invalid", "reason": "permission_revoked",
     "days": 6, "granted_by": MANAGER,
     "native": {MANAGER: ("no", "Content admin"), OWNER: "yes"}},
    # Bluebell Books
    {"network": "facebook", "external_id": "demo-fb-page-1201", "name": "Bluebell Books",
     "handle": "bluebellbooks", "brands": [BOOKS], "status": "no_expiry", "token_type": SYSTEM_USER_TOKEN,
     "granted_by": OWNER, "history": 1, "access": {MEMBER: "viewer"}},
    {"network": "instagram_business", "external_id": "demo-igb-2201", "name": "Bluebell Books",
     "handle": "bluebellbooks", "brands": [BOOKS], "status": "expiring", "days": 1,
     "granted_by": MEMBER, "access": {MEMBER: "admin"},
     "native": {MEMBER: "yes", MANAGER: ("unknown", "")}},
    {"network": "instagram", "external_id": "demo-ig-3201", "name": "Bluebell Reads",
     "handle": "bluebell.reads", "brands": [BOOKS], "status": "valid", "days": 58, "granted_by": OWNER},
    {"network": "threads", "external_id": "demo-th-4201", "name": "Bluebell Books",
     "handle": "bluebellbooks", "brands": [BOOKS], "status": "expiring", "days": 1,
     "granted_by": OWNER, "access": {MEMBER: "admin"}},
    {"network": "x", "external_id": "demo-x-5201", "name": "Bluebell Books",
     "handle": "BluebellBooks", "brands": [BOOKS], "status": "no_expiry", "granted_by": OWNER},
    {"network": "linkedin_personal", "external_id": "demo-li-person-11201", "name": "Iris Bell",
     "handle": "iris-bell", "brands": [BOOKS], "status": "valid", "days": 300, "granted_by": OWNER},
    {"network": "linkedin_company", "external_id": "demo-li-org-10201", "name": "Bluebell Books",
     "handle": "bluebell-books", "brands": [BOOKS], "status": "expiring", "days": 3, "refresh": False,
     "granted_by": MANAGER, "native": {OWNER: ("no", "Analyst"), MANAGER: "yes"}},
    {"network": "youtube", "external_id": "demo-yt-8201", "name": "Bluebell Book Club",
     "handle": "@bluebellbookclub", "brands": [BOOKS], "status": "invalid", "reason": "password_changed",
     "days": 3, "granted_by": OWNER},
    {"network": "google_business", "external_id": "demo-gbp-6201", "name": "Bluebell Books · Old Town",
     "handle": "", "brands": [BOOKS], "status": "no_expiry", "granted_by": OWNER},
    {"network": "tiktok", "external_id": "demo-tt-7201", "name": "Bluebell Books",
     "handle": "bluebellbooks", "brands": [BOOKS], "status": "expired", "days": 3, "granted_by": OWNER},
    {"network": "pinterest", "external_id": "demo-pin-9201", "name": "Bluebell Books Shelf",
     "handle": "bluebellshelf", "brands": [BOOKS], "status": "invalid", "reason": "unknown",
     "days": 2, "granted_by": OWNER},
    {"network": "facebook", "external_id": "demo-fb-page-1202", "name": "Bluebell Books Events",
     "handle": "bluebellevents", "brands": [BOOKS, CAFE], "status": "expiring", "days": 6,
     "granted_by": OWNER},
    {"network": "instagram_business", "external_id": "demo-igb-2202", "name": "Bluebell Kids",
     "handle": "bluebell.kids", "brands": [BOOKS], "status": "valid", "days": 40, "granted_by": OWNER},
]


def demo_world():
    """The demo's social profiles, as plain data (a fresh copy each call)."""
    return copy.deepcopy(_PROFILES)


def uses_refresh_token(spec):
    return spec["network"] in REFRESH_LIFETIME and spec.get("refresh", True)


def native_roles(spec):
    """{email: (can_renew, role)}: what the network said of each person who
    consented; the person who granted the token could renew it."""
    default_role = NATIVE_ROLE[spec["network"]]
    roles = {spec["granted_by"]: (CanRenew.YES, default_role)}
    for email, value in spec.get("native", {}).items():
        can_renew, role = (value, default_role) if isinstance(value, str) else value
        roles[email] = (CanRenew(can_renew), role)
    return roles


def credential_plan(spec, now):
    """The times and state of the current credential of `spec` at `now`
    (plain values; tokens are added by the caller)."""
    network = spec["network"]
    status = spec["status"]
    # A little past whole days, so that "N days left" reads N.
    days = timedelta(days=spec.get("days") or 0)
    span = days + timedelta(hours=2)
    refresh = uses_refresh_token(spec)
    access_lifetime = ACCESS_LIFETIME[network]
    plan = {
        "token_type": spec.get("token_type", "user"),
        "scopes": " ".join(NETWORKS[network].scopes),
        "status": CredentialState.ACTIVE,
        "invalid_reason": None,
        "invalidated_at": None,
        "last_check_ok": True,
        "last_checked_at": now - timedelta(hours=1),
        "last_refreshed_at": now - timedelta(hours=1) if refresh else None,
        "has_refresh_token": refresh,
        "refresh_expires_at": None,
        "data_access_expires_at": None,
    }

    if status in ("valid", "expiring"):
        end = now + span
    elif status == "expired":
        end = now - days
    else:
        end = None
    if refresh:
        lifetime = REFRESH_LIFETIME[network]
        if end is not None:
            plan["refresh_expires_at"] = end
        elif lifetime is not None:
            # Refresh tokens of the invalid grants would have lived on.
            plan["refresh_expires_at"] = now + lifetime - timedelta(days=30)
        access_end = now + access_lifetime if status != "expired" else end - timedelta(hours=1)
        if plan["refresh_expires_at"] is not None:
            access_end = min(access_end, plan["refresh_expires_at"])
        plan["expires_at"] = access_end
        if end is not None:
            # Without a fixed end (Google), a near end is an app in "Testing": 7 days.
            plan["created_at"] = end - (lifetime or timedelta(days=7))
        elif plan["refresh_expires_at"] is not None:
            plan["created_at"] = plan["refresh_expires_at"] - lifetime
        else:
            plan["created_at"] = now - timedelta(days=20)
    else:
        if status == "no_expiry":
            plan["expires_at"] = None
        elif end is not None:
            plan["expires_at"] = end
        else:
            plan["expires_at"] = now + timedelta(days=20)
        lifetime_start = (plan["expires_at"] or now) - access_lifetime
        plan["created_at"] = min(lifetime_start, now - timedelta(days=1))
    if network in ("facebook", "instagram_business") and plan["token_type"] != SYSTEM_USER_TOKEN:
        plan["data_access_expires_at"] = plan["created_at"] + timedelta(days=90)
        if plan["token_type"] == PAGE_TOKEN:
            # A Page token does not expire: its data access is its end.
            plan["expires_at"] = None
            plan["data_access_expires_at"] = end or plan["data_access_expires_at"]

    if status == "invalid":
        plan["status"] = CredentialState.INVALID
        plan["invalid_reason"] = spec["reason"]
        plan["invalidated_at"] = now - days
        plan["last_check_ok"] = False
        plan["last_checked_at"] = now - days
    elif status == "expired":
        plan["last_checked_at"] = end - timedelta(days=1)
        plan["last_refreshed_at"] = None
    plan["created_at"] = min(plan["created_at"], now - timedelta(days=1))
    return plan


# The role names each network uses for the people of the demo (what the
# network's own API says), for the sandbox network that plays them.
NETWORK_ROLE = {
    "facebook": ("ADMIN", "ANALYST"),
    "instagram_business": ("ADMIN", "ANALYST"),
    "linkedin_company": ("ADMINISTRATOR", "DIRECT_SPONSORED_CONTENT_POSTER"),
}
SANDBOX_STATE = {
    "expired": "expired",
    "password_changed": "password_changed",
    "role_changed": "role_changed",
    "app_removed": "app_removed",
    "checkpoint": "checkpoint",
    "permission_revoked": "revoked",
    "unknown": "revoked",
}


def sandbox_grant(spec, plan, now):
    """What to tell the sandbox network so that it holds this profile's
    account, its people's roles, and a grant in the profile's state."""
    can, cannot = NETWORK_ROLE.get(spec["network"], ("OWNER", "VIEWER"))
    roles = [
        {"email": email, "role": cannot if can_renew == CanRenew.NO else can, "can_renew": can_renew != CanRenew.NO}
        for email, (can_renew, _) in native_roles(spec).items()
    ]
    if spec["status"] == "invalid":
        state = SANDBOX_STATE[spec["reason"]]
    elif spec["status"] == "expired":
        state = "expired"
    else:
        state = "active"

    def seconds_until(moment):
        return int((moment - now).total_seconds()) if moment is not None and moment > now else None

    grant = {
        "network": spec["network"],
        "account": {"external_id": spec["external_id"], "name": spec["name"], "handle": spec["handle"]},
        "person": {"email": spec["granted_by"]},
        "roles": roles,
        "expires_in": seconds_until(plan["expires_at"]),
        "refresh": plan["has_refresh_token"],  # LinkedIn: grants with (and without) a refresh token
        "refresh_expires_in": seconds_until(plan["refresh_expires_at"]),
        "data_access_expires_in": seconds_until(plan["data_access_expires_at"]),
        "state": state,
    }
    if plan["token_type"] == SYSTEM_USER_TOKEN:
        # Generated in Business Manager for a system user assigned to the Page.
        grant.update(kind="system_user", person={"email": SYSTEM_USER_EMAIL},
                     roles=[*roles, {"email": SYSTEM_USER_EMAIL, "role": can, "can_renew": True}])
    return grant


def _demo_token(kind, network):
    return f"demo-{kind}-{network}-{secrets.token_urlsafe(24)}"


class _Seeder:
    def __init__(self, session, now, network=None):
        self.session = session
        self.now = now
        self.network = network  # an HTTP client of the sandbox network, when it is on
        self.created = {}

    def _add(self, row):
        self.session.add(row)
        self.session.flush()
        name = type(row).__name__
        self.created[name] = self.created.get(name, 0) + 1
        return row

    def first(self, statement):
        return self.session.exec(statement).first()

    def organization(self):
        organization = self.first(select(Organization).where(Organization.name == ORGANIZATION))
        return organization or self._add(Organization(name=ORGANIZATION))

    def brands(self, organization):
        found = {}
        for name in BRANDS:
            brand = self.first(select(Brand).where(Brand.organization_id == organization.id, Brand.name == name))
            found[name] = brand or self._add(Brand(organization_id=organization.id, name=name))
        return found

    def people(self, organization):
        password_hash = None
        found = {}
        for person in PEOPLE:
            user = self.first(select(User).where(User.email == person["email"]))
            if user is None:
                password_hash = password_hash or hash_password(DEMO_PASSWORD)
                user = self._add(User(email=person["email"], name=person["name"], password_hash=password_hash))
            membership = self.first(
                select(Membership).where(Membership.user_id == user.id,
                                         Membership.organization_id == organization.id)
            )
            if membership is None:
                self._add(Membership(user_id=user.id, organization_id=organization.id, role=person["role"],
                                     can_manage_profiles=person["can_manage_profiles"]))
            found[person["email"]] = user
        return found

    def profile(self, organization, brands, people, spec):
        profile = self.first(
            select(SocialProfile).where(
                SocialProfile.organization_id == organization.id,
                SocialProfile.network == spec["network"],
                SocialProfile.external_id == spec["external_id"],
            )
        )
        is_new = profile is None
        if is_new:
            profile = self._add(SocialProfile(
                organization_id=organization.id, network=spec["network"], external_id=spec["external_id"],
                name=spec["name"], handle=spec["handle"], created_at=self.now - timedelta(days=120),
            ))
        for name in spec["brands"]:
            link = self.session.get(BrandProfile, (brands[name].id, profile.id))
            if link is None:
                self._add(BrandProfile(brand_id=brands[name].id, profile_id=profile.id))
        for email, level in spec.get("access", {}).items():
            user_id = people[email].id
            if self.first(select(ProfileAccess).where(ProfileAccess.user_id == user_id,
                                                      ProfileAccess.profile_id == profile.id)) is None:
                self._add(ProfileAccess(user_id=user_id, profile_id=profile.id, level=level))
        for email, (can_renew, role) in native_roles(spec).items():
            user_id = people[email].id
            if self.first(select(NativeRole).where(NativeRole.user_id == user_id,
                                                   NativeRole.profile_id == profile.id)) is None:
                self._add(NativeRole(profile_id=profile.id, user_id=user_id, can_renew=can_renew, role=role,
                                     observed_at=self.now - timedelta(days=20)))
        has_credential = self.first(select(Credential.id).where(Credential.profile_id == profile.id))
        if has_credential is None:
            self.credentials(organization, profile, people[spec["granted_by"]], spec)

    def issued_tokens(self, spec, plan):
        """The access and refresh tokens of the profile's current credential,
        and the network's id of the person who granted them: issued by the
        sandbox network when it runs, so renewals (and removals) really work."""
        network = spec["network"]
        access = _demo_token("access", network)
        refresh = _demo_token("refresh", network) if plan["has_refresh_token"] else None
        if self.network is None:
            return access, refresh, None
        response = self.network.post("/sandbox/admin/api/grants", json=sandbox_grant(spec, plan, self.now))
        if response.status_code != 201:
            raise RuntimeError(f"the sandbox refused the demo account {spec['external_id']}: {response.text}")
        issued = response.json()
        # The network's record of when the token was issued matches the
        # portal's, so rules such as Instagram's "24 hours old" agree.
        issued_at = plan["last_refreshed_at"] or plan["created_at"]
        age = (self.now - issued_at).total_seconds()
        if age > 0:
            self.network.post(f"/sandbox/admin/api/grants/{issued['grant_id']}/backdate", json={"seconds": age})
        refresh = issued.get("refresh_token") if plan["has_refresh_token"] else None
        return issued["access_token"], refresh, issued.get("person_external_id")

    def credentials(self, organization, profile, granter, spec):
        plan = credential_plan(spec, self.now)
        network = spec["network"]
        access, refresh, person = self.issued_tokens(spec, plan)
        for _ in range(spec.get("history", 0)):
            # An earlier grant, replaced by the current one when it was renewed.
            started = plan["created_at"] - timedelta(days=60)
            self._add(Credential(
                profile_id=profile.id,
                sealed_access_token=seal(_demo_token("access", network)),
                sealed_refresh_token=seal(_demo_token("refresh", network)) if plan["has_refresh_token"] else None,
                token_type=plan["token_type"], scopes=plan["scopes"], granted_by_id=granter.id,
                created_at=started, expires_at=plan["created_at"] + timedelta(days=1),
                last_checked_at=plan["created_at"], last_check_ok=True, superseded_at=plan["created_at"],
            ))
            self._add(audit_row("token.renewed", organization_id=organization.id, profile=profile, user=granter,
                                created_at=plan["created_at"], mode="interactive"))
        credential = self._add(Credential(
            profile_id=profile.id,
            sealed_access_token=seal(access),
            sealed_refresh_token=seal(refresh),
            token_type=plan["token_type"], scopes=plan["scopes"], granted_by_id=granter.id,
            person_external_id=person, created_at=plan["created_at"], expires_at=plan["expires_at"],
            refresh_expires_at=plan["refresh_expires_at"],
            data_access_expires_at=plan["data_access_expires_at"],
            last_refreshed_at=plan["last_refreshed_at"], last_checked_at=plan["last_checked_at"],
            last_check_ok=plan["last_check_ok"], status=plan["status"],
            invalid_reason=plan["invalid_reason"], invalidated_at=plan["invalidated_at"],
        ))
        first_grant = plan["created_at"] - timedelta(days=60 * spec.get("history", 0))
        self._add(audit_row("profile.connected", organization_id=organization.id, profile=profile, user=granter,
                            created_at=first_grant))
        if credential.status == CredentialState.INVALID:
            self._add(audit_row("token.failed", organization_id=organization.id, profile=profile,
                                created_at=credential.invalidated_at, mode="health_check",
                                reason=credential.invalid_reason))


def sandbox_client():
    """An HTTP client of the sandbox network inside this app (no server needed),
    or None when the sandbox is off."""
    if not current_app.config.get("SANDBOX"):
        return None
    app = current_app._get_current_object()
    return httpx2.Client(transport=httpx2.WSGITransport(app=app), base_url="http://sandbox.local")


def seed_demo(now=None):
    """Write the demo world; returns {table: rows added} (empty when it was all there).

    With the sandbox on, each new profile's account, people and grant are
    registered with the sandbox network first, as a developer registers test
    users with a real network, and the credential holds the tokens it issued."""
    now = now or utcnow()
    network = sandbox_client()
    with new_session() as session:
        seeder = _Seeder(session, now, network)
        organization = seeder.organization()
        brands = seeder.brands(organization)
        people = seeder.people(organization)
        for spec in _PROFILES:
            seeder.profile(organization, brands, people, spec)
        if seeder.created:
            changed(session, organization_id=organization.id)
        session.commit()
    if network is not None:
        network.close()
    return seeder.created
