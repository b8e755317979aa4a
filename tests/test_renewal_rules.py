"""When a worker renews ahead of expiry (portal.renewal.rules): pure cases."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from portal.renewal.rules import KEEPALIVE_EVERY, MARGIN, MIN_INTERVAL, RefreshPolicy, refresh_due

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
META_LOGIN = RefreshPolicy(extends_access_token=True, min_token_age=timedelta(hours=24))
REFRESH_TOKEN = RefreshPolicy()


@dataclass
class Cred:
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    refreshable: bool = False
    created_at: datetime = NOW - timedelta(days=20)
    last_refreshed_at: datetime | None = None
    invalid: bool = False
    superseded_at: datetime | None = None

    @property
    def can_refresh_silently(self):
        return self.refreshable

    @property
    def is_invalid(self):
        return self.invalid


def test_extension_network_is_due_inside_the_margin():
    assert refresh_due(Cred(expires_at=NOW + MARGIN - timedelta(hours=1)), META_LOGIN, NOW)


def test_extension_network_not_due_far_from_expiry():
    assert not refresh_due(Cred(expires_at=NOW + MARGIN + timedelta(hours=1)), META_LOGIN, NOW)


def test_extension_network_expired_cannot_be_renewed_silently():
    assert not refresh_due(Cred(expires_at=NOW - timedelta(seconds=1)), META_LOGIN, NOW)


def test_a_token_under_a_day_old_waits():
    young = Cred(expires_at=NOW + timedelta(days=2), created_at=NOW - timedelta(hours=3))
    due = refresh_due(young, META_LOGIN, NOW)
    assert not due and due.not_before == young.created_at + MIN_INTERVAL


def test_min_token_age_longer_than_the_interval_is_honoured():
    slow = RefreshPolicy(extends_access_token=True, min_token_age=timedelta(days=3))
    cred = Cred(expires_at=NOW + timedelta(days=2), created_at=NOW - timedelta(days=2))
    due = refresh_due(cred, slow, NOW)
    assert not due and due.not_before == cred.created_at + timedelta(days=3)


def test_no_silent_renewal_without_refresh_token_or_extension():
    assert not refresh_due(Cred(expires_at=NOW + timedelta(days=1)), REFRESH_TOKEN, NOW)


def test_invalid_or_superseded_credentials_are_left_alone():
    assert not refresh_due(Cred(expires_at=NOW + timedelta(days=1), invalid=True), META_LOGIN, NOW)
    assert not refresh_due(Cred(expires_at=NOW + timedelta(days=1), superseded_at=NOW), META_LOGIN, NOW)


def test_sliding_refresh_token_is_renewed_before_its_end():
    cred = Cred(refreshable=True, expires_at=NOW + timedelta(hours=1), refresh_expires_at=NOW + timedelta(days=5))
    assert refresh_due(cred, REFRESH_TOKEN, NOW)


def test_short_lived_access_tokens_are_not_renewed_ahead():
    # X and TikTok: a 2-hour access token is renewed on demand, not every scan.
    refreshed = NOW - timedelta(days=2)
    cred = Cred(refreshable=True, last_refreshed_at=refreshed, expires_at=refreshed + timedelta(hours=2),
                refresh_expires_at=NOW + timedelta(days=200))
    assert not refresh_due(cred, REFRESH_TOKEN, NOW)


def test_long_lived_access_token_with_refresh_token_is_renewed_before_its_end():
    # LinkedIn: 60-day access tokens, refresh token with a fixed end far away.
    cred = Cred(refreshable=True, created_at=NOW - timedelta(days=55), expires_at=NOW + timedelta(days=5),
                refresh_expires_at=NOW + timedelta(days=300))
    assert refresh_due(cred, REFRESH_TOKEN, NOW)


def test_grants_are_exercised_at_least_monthly():
    cred = Cred(refreshable=True, expires_at=NOW - timedelta(days=20),
                last_refreshed_at=NOW - KEEPALIVE_EVERY - timedelta(minutes=1))
    assert refresh_due(cred, REFRESH_TOKEN, NOW)


def test_never_more_than_once_a_day():
    # LinkedIn's refresh-token end does not move: renewing each scan would be useless.
    cred = Cred(refreshable=True, expires_at=NOW + timedelta(days=60), refresh_expires_at=NOW + timedelta(days=3),
                last_refreshed_at=NOW - timedelta(hours=2))
    assert not refresh_due(cred, REFRESH_TOKEN, NOW)
    assert refresh_due(cred, REFRESH_TOKEN, NOW + timedelta(hours=23))


def test_an_ended_refresh_token_needs_a_person():
    cred = Cred(refreshable=True, refresh_expires_at=NOW - timedelta(minutes=1))
    assert not refresh_due(cred, REFRESH_TOKEN, NOW)


def test_a_renewal_renews_only_when_the_end_moves():
    from portal.renewal.rules import MOVED_BY, end_moved

    end = NOW + timedelta(days=6)
    assert not end_moved(end, end)  # TikTok's refresh token ending soon: a new access token, the same end
    assert not end_moved(end, end + timedelta(seconds=3))  # an end recomputed from "seconds left"
    assert not end_moved(end, end + MOVED_BY)
    assert not end_moved(end, end - timedelta(days=2))
    assert end_moved(end, end + MOVED_BY + timedelta(seconds=1))
    assert end_moved(end, NOW + timedelta(days=60))  # Instagram's fresh 60 days
    assert end_moved(None, None)  # X, Google: no known end, the grant exercised
    assert end_moved(end, None) and end_moved(None, end)


def test_a_health_check_run_takes_its_share_of_the_day_within_the_networks_cap():
    from portal.renewal.rules import MIN_CHECKS_PER_RUN, health_check_quota

    assert health_check_quota(0, 200) == MIN_CHECKS_PER_RUN
    assert health_check_quota(3, 200) == MIN_CHECKS_PER_RUN  # a small agency: all of them at once
    assert health_check_quota(240, 200) == 20  # twice the even share of 24 runs a day
    assert health_check_quota(241, 200) == 21
    assert health_check_quota(24000, 200) == 200  # never past the network's cap
    assert health_check_quota(5, 4) == 4
