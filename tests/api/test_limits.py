"""The per-key rate limit: leased from Redis a few requests at a time,
never more than the limit over every process."""
import pytest

from portal.api import limits

MINUTE = 1_000_000 * 60.0  # the start of a window


@pytest.mark.parametrize(("per_minute", "lease"), [(1, 1), (3, 1), (60, 1), (600, 10), (6000, 20)])
def test_a_lease_is_a_seconds_worth(per_minute, lease):
    assert limits.lease_size(per_minute) == lease


def test_one_process_gets_exactly_the_limit_then_waits_for_the_next_window(app_context):
    allowed = [limits.take(7, 600, MINUTE + 5) for _ in range(610)]
    assert allowed.count(0) == 600
    assert allowed[600:] == [55] * 10
    assert limits.take(7, 600, MINUTE + 60) == 0


def test_processes_together_never_get_more_than_the_limit(app_context, monkeypatch):
    granted = 0
    for n in range(700):
        if n % 7 == 0:  # another process: a lease of its own, what this one left unspent is lost
            monkeypatch.setattr(limits, "_leases", {})
        granted += limits.take(8, 600, MINUTE + 1) == 0
    assert 0 < granted <= 600
