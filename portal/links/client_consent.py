"""A client's renewal through their link: the consent it starts in this
browser, and how it went, kept for the page after the network's callback.

The callback (`portal.callback`) hands a consent started from a link to
`finish_consent`; the link's pages read the outcome with `outcome`.
"""
from flask import session

from portal.db import get_session, utcnow
from portal.links import rules, service
from portal.links.rules import Purpose
from portal.models import RenewalLink, SocialProfile
from portal.renewal import consent
from portal.renewal.credentials import current_credential

OUTCOME_KEY = "renewal_link_outcome"  # the client's outcome, for the page after the callback
CONSENT_KEY = "renewal_link_consent"  # the link whose consent this browser started
LANGUAGE_KEY = "renewal_link_language"  # the language of the email that brought the client


def language(asked, languages):
    """The language of the client's pages: the one their link asks for (the
    email's), else the one it asked for before in this browser, else None
    (the browser's)."""
    if asked in languages:
        session[LANGUAGE_KEY] = asked
        return asked
    kept = session.get(LANGUAGE_KEY)
    return kept if kept in languages else None


def start_consent(adapter, profile, link, done_url):
    """The network's consent URL for the client of `link`; this browser is
    the one that may come back with it."""
    session[CONSENT_KEY] = link.id
    return consent.start(adapter, profile, done_url, link_id=link.id)


def finish_consent(adapter, record, args):
    """Complete a consent started from a client's link, if the link still
    works: spend the link on success, tell the agency either way, and keep
    the outcome for the client's page."""
    db = get_session()
    link = db.get(RenewalLink, record.link_id)
    profile = db.get(SocialProfile, record.profile_id)
    if session.pop(CONSENT_KEY, None) != record.link_id or link is None or profile is None:
        return _keep(False, "unverified", profile)
    if rules.problem(link, Purpose.CLIENT, utcnow()):
        return _keep(False, "link_spent", profile)
    result = consent.complete(adapter, record, args)
    if result.ok and any(p.id == profile.id for p in result.renewed):
        service.spend(db, link.id)
        credential = current_credential(db, profile.id)
        service.tell_agency(db, link, profile, renewed=True, credential_id=credential.id if credential else None)
        db.commit()
        return _keep(True, "renewed", profile)
    reason = result.message_key if not result.ok else "wrong_account"
    service.tell_agency(db, link, profile, renewed=False, reason=reason, notify=service.count_failure(link.id))
    db.commit()
    return _keep(False, reason, profile)


def _keep(ok, message_key, profile):
    session[OUTCOME_KEY] = {
        "ok": ok, "message_key": message_key,
        "name": profile.name if profile else "", "network": profile.network if profile else "",
    }


def outcome():
    """How the client's renewal went, or None in a browser that has none."""
    return session.get(OUTCOME_KEY)
