"""A rotated client secret, tried by hand as the sandbox's admin page lets one
do: for every network, the health check, the silent renewal and a consent
that meet it change no credential, /healthz lists the network, and the
Owners hear of it once."""
import re

import pytest
from rq import Queue

from portal.networks import NETWORKS, adapter_for
from portal.renewal.health import check_credential
from portal.renewal.silent import Result, renew_silently
from tests.renewal.test_silent import connected
from tests.test_health import health_engine_disposed

pytestmark = pytest.mark.slow

PROVIDER = {
    "facebook": "facebook", "instagram_business": "facebook", "instagram": "instagram", "threads": "threads",
    "x": "x", "linkedin_personal": "linkedin", "linkedin_company": "linkedin", "youtube": "google",
    "google_business": "google", "tiktok": "tiktok", "pinterest": "pinterest",
}
# Their refresh sends no client secret (the access token renews itself): a silent renewal works.
REFRESHED_WITHOUT_SECRET = {"instagram", "threads"}


def rotate_from_the_admin_page(live, provider):
    page = live.http.get("/sandbox/admin").text
    action = re.search(rf'action="(/sandbox/admin/api/clients/{provider}/secret/rotate)"', page).group(1)
    rotated = live.http.post(action)
    assert rotated.status_code == 200 and 'id="rotated-secret"' in rotated.text


def kept(credential):
    return (credential.sealed_access_token, credential.sealed_refresh_token, credential.expires_at,
            credential.refresh_expires_at, credential.status, credential.invalid_reason, credential.version)


@pytest.mark.parametrize("network", NETWORKS)
def test_a_rotated_secret_changes_no_credential(live, session, app, network):
    profile, credential = connected(live, session, network)
    before = kept(credential)
    rotate_from_the_admin_page(live, PROVIDER[network])
    adapter = adapter_for(network)

    assert check_credential(profile.id, adapter) in ("ok", "app_settings")
    if network not in REFRESHED_WITHOUT_SECRET:
        outcome = renew_silently(profile.id, adapter, force=True)
        assert outcome.result in (Result.APP_SETTINGS, Result.NEEDS_CONSENT)  # Pages: a consent, below
    assert kept(live.current(profile.id)) == before

    started = live.renew(profile.id, by="consent")
    live.http.get(live.consent(started.headers["location"]))
    assert any("own app settings" in text for kind, text in live.flashes() if kind == "error")
    assert kept(live.current(profile.id)) == before

    health = live.http.get("/healthz").json()
    health_engine_disposed(app)  # /healthz keeps a connection of its own on PostgreSQL
    assert network in [entry["network"] for entry in health["app_settings_refused"]]
    queue = Queue(app.config["QUEUE_NAME"], connection=app.extensions["keepalive.redis"])
    told = [job for job in queue.jobs if job.func_name == "jobs.mail.send_message"]
    assert [job.args[0]["recipients"] for job in told] == [["owner@demo.test"]]
