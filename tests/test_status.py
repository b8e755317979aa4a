"""The token status rule (docs/design.md, "Token status"): every row and its edges."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from portal.models import InvalidReason
from portal.status import Status, effective_expiry, token_status

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
WINDOW = 7


@dataclass
class Cred:
    """Only what the rule reads."""

    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    refreshable: bool = False
    invalid_reason: str | None = None
    invalid: bool = False
    invalidated_at: datetime | None = None
    last_check_ok: bool | None = None

    @property
    def can_refresh_silently(self):
        return self.refreshable

    @property
    def is_invalid(self):
        return self.invalid


def status_of(cred, now=NOW, window=WINDOW):
    return token_status(cred, now, window)


def test_expired_when_invalid_whatever_the_dates():
    for reason in InvalidReason:
        result = status_of(Cred(expires_at=NOW + timedelta(days=40), invalid=True, invalid_reason=reason))
        assert result.status == Status.EXPIRED
        assert result.reason == reason
        assert result.days_left is None


@pytest.mark.parametrize("expires_at, invalidated_at, shown", [
    # Found dead before its end: it ended then, not at the end it would have had.
    (NOW + timedelta(days=40), NOW - timedelta(hours=2), NOW - timedelta(hours=2)),
    (None, NOW - timedelta(hours=2), NOW - timedelta(hours=2)),
    # Its end came first (then a failed renewal marked it): the end.
    (NOW - timedelta(days=3), NOW - timedelta(hours=2), NOW - timedelta(days=3)),
    # Not known when it was found dead: a past end, never a future one.
    (NOW - timedelta(days=3), None, NOW - timedelta(days=3)),
    (NOW + timedelta(days=40), None, None),
    (None, None, None),
])
def test_a_dead_token_shows_no_future_expiry(expires_at, invalidated_at, shown):
    result = status_of(Cred(expires_at=expires_at, invalidated_at=invalidated_at, invalid=True,
                            invalid_reason=InvalidReason.PASSWORD_CHANGED))
    assert (result.status, result.effective_expiry, result.days_left) == (Status.EXPIRED, shown, None)


def test_invalid_without_reason_reads_unknown():
    assert status_of(Cred(invalid=True)).reason == InvalidReason.UNKNOWN


def test_expired_when_effective_expiry_is_past():
    result = status_of(Cred(expires_at=NOW - timedelta(minutes=1)))
    assert (result.status, result.reason) == (Status.EXPIRED, InvalidReason.EXPIRED)


def test_expired_exactly_at_expiry():
    assert status_of(Cred(expires_at=NOW)).status == Status.EXPIRED


def test_expiring_one_second_before_expiry_says_today():
    result = status_of(Cred(expires_at=NOW + timedelta(seconds=1)))
    assert (result.status, result.days_left) == (Status.EXPIRING, 0)


@pytest.mark.parametrize("days", [1, 3, 6])
def test_expiring_within_the_window_counts_whole_days(days):
    result = status_of(Cred(expires_at=NOW + timedelta(days=days, hours=5)))
    assert (result.status, result.days_left) == (Status.EXPIRING, days)


def test_exactly_at_the_window_edge_is_expiring():
    result = status_of(Cred(expires_at=NOW + timedelta(days=WINDOW)))
    assert (result.status, result.days_left) == (Status.EXPIRING, WINDOW)


def test_just_beyond_the_window_is_valid():
    result = status_of(Cred(expires_at=NOW + timedelta(days=WINDOW, seconds=1)))
    assert (result.status, result.days_left) == (Status.VALID, WINDOW)


def test_the_window_is_the_organizations():
    cred = Cred(expires_at=NOW + timedelta(days=9))
    assert status_of(cred, window=7).status == Status.VALID
    assert status_of(cred, window=10).status == Status.EXPIRING


def test_no_expiry_and_check_passed():
    result = status_of(Cred(last_check_ok=True))
    assert (result.status, result.effective_expiry, result.days_left) == (Status.NO_EXPIRY, None, None)


def test_no_expiry_never_checked_since_the_grant():
    assert status_of(Cred(last_check_ok=None)).status == Status.NO_EXPIRY


def test_no_expiry_with_a_failed_check_is_expired():
    result = status_of(Cred(last_check_ok=False))
    assert (result.status, result.reason) == (Status.EXPIRED, InvalidReason.UNKNOWN)


def test_refreshable_credential_follows_its_refresh_token():
    # The access token dies in an hour, but a worker renews it silently:
    # only the refresh token's end matters.
    cred = Cred(
        refreshable=True,
        expires_at=NOW + timedelta(hours=1),
        refresh_expires_at=NOW + timedelta(days=200),
    )
    assert effective_expiry(cred) == cred.refresh_expires_at
    assert status_of(cred).status == Status.VALID


def test_refreshable_credential_without_refresh_end_has_no_expiry():
    cred = Cred(refreshable=True, expires_at=NOW - timedelta(hours=1), last_check_ok=True)
    assert status_of(cred).status == Status.NO_EXPIRY


def test_refreshable_credential_whose_refresh_token_ends_soon_is_expiring():
    cred = Cred(refreshable=True, expires_at=NOW + timedelta(hours=2), refresh_expires_at=NOW + timedelta(days=2))
    assert (status_of(cred).status, status_of(cred).days_left) == (Status.EXPIRING, 2)


def test_not_refreshable_follows_the_access_token():
    cred = Cred(expires_at=NOW + timedelta(days=2), refresh_expires_at=NOW + timedelta(days=300))
    assert effective_expiry(cred) == cred.expires_at
    assert status_of(cred).status == Status.EXPIRING


def test_time_zones_compare_as_instants():
    paris = timezone(timedelta(hours=1))
    expiry = datetime(2026, 11, 22, 13, 30, tzinfo=paris)  # 12:30 UTC: half an hour left
    result = status_of(Cred(expires_at=expiry))
    assert (result.status, result.days_left) == (Status.EXPIRING, 0)
    tokyo_now = NOW.astimezone(timezone(timedelta(hours=9)))
    assert status_of(Cred(expires_at=expiry), now=tokyo_now) == result


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        token_status(Cred(), datetime(2026, 1, 1), WINDOW)


def test_a_profile_without_credential_is_expired():
    assert token_status(None, NOW, WINDOW).status == Status.EXPIRED


def test_urgency_orders_expired_then_nearest_expiry():
    statuses = [
        status_of(Cred(expires_at=NOW + timedelta(days=30))),
        status_of(Cred(last_check_ok=True)),
        status_of(Cred(expires_at=NOW + timedelta(days=1))),
        status_of(Cred(invalid=True)),
        status_of(Cred(expires_at=NOW + timedelta(days=5))),
    ]
    ordered = sorted(statuses, key=lambda s: s.urgency)
    assert [s.status for s in ordered] == [
        Status.EXPIRED, Status.EXPIRING, Status.EXPIRING, Status.NO_EXPIRY, Status.VALID
    ]
    assert ordered[1].days_left == 1


@pytest.mark.parametrize("left", [timedelta(seconds=1), timedelta(hours=5), timedelta(days=3, hours=5),
                                  timedelta(days=WINDOW), timedelta(days=WINDOW, seconds=1),
                                  timedelta(days=40, minutes=3)])
def test_a_status_holds_until_its_changes_at_and_not_after(left):
    cred = Cred(expires_at=NOW + left)
    status = status_of(cred)
    moment = status.changes_at
    assert NOW <= moment <= NOW + left
    if moment > NOW:
        just_before = status_of(cred, moment - timedelta(microseconds=1))
        assert (just_before.status, just_before.days_left) == (status.status, status.days_left)
    # Entering the window and expiring happen at the moment, a day less just after it.
    after = status_of(cred, moment + timedelta(microseconds=1))
    assert (after.status, after.days_left) != (status.status, status.days_left)


@pytest.mark.parametrize("cred", [Cred(expires_at=NOW - timedelta(days=1)), Cred(),
                                  Cred(expires_at=NOW + timedelta(days=2), invalid=True)])
def test_expired_and_undated_statuses_do_not_change_with_time(cred):
    assert status_of(cred).changes_at is None


def test_a_page_token_lasts_as_long_as_its_data_access():
    page = Cred(expires_at=None, data_access_expires_at=NOW + timedelta(days=5, hours=1))
    assert effective_expiry(page) == page.data_access_expires_at
    status = status_of(page)
    assert (status.status, status.days_left) == ("expiring", 5)
    assert status_of(Cred(data_access_expires_at=NOW - timedelta(seconds=1))).status == "expired"
    assert status_of(Cred(data_access_expires_at=NOW + timedelta(days=80))).status == "valid"


def test_data_access_ends_a_token_that_would_live_longer():
    refreshable = Cred(refreshable=True, refresh_expires_at=NOW + timedelta(days=50),
                       data_access_expires_at=NOW + timedelta(days=20))
    assert effective_expiry(refreshable) == NOW + timedelta(days=20)
    # ...never one that ends first
    short = Cred(expires_at=NOW + timedelta(days=3), data_access_expires_at=NOW + timedelta(days=20))
    assert effective_expiry(short) == NOW + timedelta(days=3)
