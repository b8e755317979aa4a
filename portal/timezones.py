"""Time zones a person may choose: the IANA names ("Europe/Berlin"), and the
zone of a stored name (UTC for none or one this system does not know)."""
from datetime import timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

MAX_LENGTH = 64


@cache
def names():
    """Every zone a person may choose, UTC first, then by name; the legacy
    and POSIX aliases left out."""
    regional = sorted(name for name in available_timezones()
                      if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
                      and len(name) <= MAX_LENGTH)
    return ("UTC", *regional)


def known(name):
    return bool(name) and name in _known()


@cache
def _known():
    return frozenset(names())


def zone_of(name):
    """The zone of `name`; UTC when it is unset or unknown."""
    return ZoneInfo(name) if known(name) and name != "UTC" else timezone.utc
