"""The filters of Manage Accounts: what a query string selects, as a
`portal.profiles.Scope` the database applies, and which page."""
from dataclasses import dataclass

from portal.numbers import whole_number
from portal.paging import page_number, query_args, search_text
from portal.profiles import Scope
from portal.status import Status

STATUSES = (Status.EXPIRED, Status.EXPIRING, Status.VALID, Status.NO_EXPIRY)


class BadFilter(ValueError):
    """A query string naming a status, network or brand that does not exist."""

    def __init__(self, key):
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    network: str | None = None
    brand_id: int | None = None
    text: str = ""
    page: int = 1

    def query(self, **changes):
        """The query-string arguments of these filters (with `changes`)."""
        return query_args({"status": self.status, "network": self.network, "brand": self.brand_id,
                           "q": self.text, "page": self.page, **changes})

    def scope(self, with_status=True):
        """The profiles these filters select (those of every status, if not `with_status`)."""
        return Scope(brand_id=self.brand_id, network=self.network, text=self.text,
                     statuses=(self.status,) if self.status and with_status else ())


def parse_filters(args, network_keys, brand_ids, default_brand_id=None):
    """`Filters` from a query string (a mapping); raises `BadFilter` for values
    that name nothing. A missing `brand` means `default_brand_id` (the brand
    chosen in the header); an empty one means every brand."""
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadFilter("status")
    network = args.get("network") or None
    if network is not None and network not in network_keys:
        raise BadFilter("network")
    brand_id = default_brand_id
    if "brand" in args:
        raw = args.get("brand") or ""
        brand_id = whole_number(raw) if raw else None
        if raw and brand_id not in brand_ids:
            raise BadFilter("brand")
    return Filters(status=status, network=network, brand_id=brand_id, text=search_text(args),
                   page=page_number(args.get("page")))
