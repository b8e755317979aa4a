"""Whole numbers from the outside world: ids and page numbers as a form, a
query string or a path spells them.

`str.isdigit` admits "²" and other scripts' digits, and `int` refuses
numbers of more than 4,300 digits; the database refuses ids past what its
id columns hold (INTEGER: 2^31 - 1 on PostgreSQL, 2^63 - 1 on SQLite).
Only ASCII digits within those bounds are a number here.
"""
MAX_ID = 2**31 - 1  # the largest id PostgreSQL's INTEGER columns hold


def whole_number(text, maximum=MAX_ID):
    """The number `text` spells in ASCII digits (no sign, no space), or None
    when it spells none or one above `maximum`."""
    if not isinstance(text, str) or not text or len(text) > len(str(maximum)):
        return None
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= maximum else None
