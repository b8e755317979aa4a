"""Lists shown a page at a time: which rows a page number stands for,
counted and read in the database."""
import math
from dataclasses import dataclass

from sqlmodel import func, select
from werkzeug.exceptions import BadRequest

from portal.db import get_session
from portal.numbers import whole_number

PER_PAGE = 50


@dataclass
class Page:
    items: list
    number: int
    pages: int
    total: int
    per_page: int = PER_PAGE

    @property
    def offset(self):
        return (self.number - 1) * self.per_page

    @property
    def first_index(self):
        return self.offset + 1 if self.total else 0

    @property
    def last_index(self):
        return min(self.number * self.per_page, self.total)


def paginate(total, number, per_page=PER_PAGE):
    """Page `number` of `total` rows (the last page when `number` is past
    the end), its items still to be read."""
    pages = max(1, math.ceil(total / per_page))
    return Page(items=[], number=min(max(1, number), pages), pages=pages, total=total, per_page=per_page)


def page_of(query, number, per_page=PER_PAGE):
    """Page `number` of the rows of `query` (a SELECT with its order), in two
    queries: the count, then the page's rows."""
    total = get_session().exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    page = paginate(total, number, per_page)
    page.items = get_session().exec(query.limit(per_page).offset(page.offset)).all()
    return page


def page_number(value):
    """The page number a query string gives: 1 for anything but a positive whole number."""
    return whole_number(value) or 1


def search_text(values):
    """The text a list is searched for (`q`), trimmed, 100 characters at most."""
    return (values.get("q") or "").strip()[:100]


def query_args(values):
    """`values` as a list's query-string arguments: the empty ones and page 1 left out."""
    return {key: value for key, value in values.items()
            if value not in (None, "") and not (key == "page" and value == 1)}


@dataclass(frozen=True)
class Listing:
    """A list of profiles as its query string asks: the text searched (`q`),
    which of them to show (`show`, one of the list's own choices) and the
    page number (`page`)."""
    text: str = ""
    show: str = ""
    number: int = 1

    @classmethod
    def of(cls, values, shows=("",)):
        """The listing `values` ask for; a `show` the list does not offer
        is a BadListing (400)."""
        show = values.get("show", "")
        if show not in shows:
            raise BadListing(show)
        return cls(text=search_text(values), show=show, number=page_number(values.get("page")))

    def query(self, **changes):
        """The query-string arguments of this listing (with `changes`)."""
        return query_args({"q": self.text, "show": self.show, "page": self.number, **changes})


class BadListing(BadRequest):
    """A list asked to show what it does not offer: a 400 (what it asked for
    is kept as `show`, not shown back on the error page)."""

    def __init__(self, show):
        super().__init__()
        self.show = show
