"""The filters of Manage Accounts, as a pure rule over profile rows: which
rows a query string selects, how many each status has, and which page."""
import math
from dataclasses import dataclass, field

from portal.status import Status

PER_PAGE = 50
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
        """The query-string arguments of these filters (with `changes`), empty ones left out."""
        values = {"status": self.status, "network": self.network, "brand": self.brand_id,
                  "q": self.text, "page": self.page}
        values.update(changes)
        if values.get("page") == 1:
            values.pop("page")
        return {key: value for key, value in values.items() if value not in (None, "")}


@dataclass
class Page:
    items: list
    number: int
    pages: int
    total: int
    per_page: int = PER_PAGE
    counts: dict = field(default_factory=dict)

    @property
    def first_index(self):
        return (self.number - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self):
        return min(self.number * self.per_page, self.total)


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
        if raw == "":
            brand_id = None
        elif raw.isdigit() and int(raw) in brand_ids:
            brand_id = int(raw)
        else:
            raise BadFilter("brand")
    page = args.get("page") or "1"
    page = int(page) if page.isdigit() and int(page) > 0 else 1
    return Filters(status=status, network=network, brand_id=brand_id,
                   text=(args.get("q") or "").strip()[:100], page=page)


def _matches_text(row, text):
    needle = text.casefold().lstrip("@")
    return needle in row.profile.name.casefold() or needle in (row.profile.handle or "").casefold()


def select_rows(rows, filters):
    """The rows the filters select, in the given order, and the count of each
    status among the rows every filter but the status selects."""
    narrowed = [
        row for row in rows
        if (filters.network is None or row.profile.network == filters.network)
        and (filters.brand_id is None or any(brand.id == filters.brand_id for brand in row.brands))
        and (not filters.text or _matches_text(row, filters.text))
    ]
    counts = {status: 0 for status in STATUSES}
    for row in narrowed:
        counts[row.status.status] += 1
    selected = [row for row in narrowed if filters.status is None or row.status.status == filters.status]
    return selected, counts


def paginate(rows, number, per_page=PER_PAGE):
    """Page `number` of `rows` (the last page when `number` is past the end)."""
    pages = max(1, math.ceil(len(rows) / per_page))
    number = min(max(1, number), pages)
    start = (number - 1) * per_page
    return Page(items=rows[start:start + per_page], number=number, pages=pages, total=len(rows),
                per_page=per_page)


def renewable_by_network(rows, network=None):
    """{network key: number of profiles at risk the user may renew}, for
    "Try renewing all" (of `network` only, if given); networks with none are
    left out."""
    counts = {}
    for row in rows:
        if row.status.needs_attention and row.renew and network in (None, row.profile.network):
            counts[row.profile.network] = counts.get(row.profile.network, 0) + 1
    return counts
