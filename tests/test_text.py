"""One line of text from outside (`portal.text`): what names and handles may hold."""
import pytest

from portal.text import one_line, profile_name


@pytest.mark.parametrize("text, expected", [
    ("Northwind Café", "Northwind Café"),
    (None, ""),
    ("", ""),
    ("  Northwind   Café ", "Northwind Café"),
    ("Northwind\nCafé", "Northwind Café"),
    ("Northwind\r\nCafé", "Northwind Café"),
    ("Northwind\u2028Café\u2029", "Northwind Café"),  # what str.splitlines, so email headers, break at
    ("Northwind\x0b\x0c\x1c\x85Café", "Northwind Café"),
    ("Northwind\tCafé\x00\x7f", "Northwind Café"),
    ("North\u200bwind\ufeff", "Northwind"),  # invisible: a zero-width space, a byte order mark
    ("\u202eéfaC dniwhtroN", "éfaC dniwhtroN"),  # a direction override
    ("Action requise\xa0: Northwind\u3000Café", "Action requise\xa0: Northwind\u3000Café"),  # other spaces stay
    ("Family 👨\u200d👩\u200d👧", "Family 👨\u200d👩\u200d👧"),  # the joiners of an emoji stay
    ("Scotland 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
     "Scotland 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),
    ("می\u200cخواهم", "می\u200cخواهم"),  # a zero-width non-joiner, as Persian writes it
    ("Café\ud83d", "Café"),  # half a UTF-16 pair, which no encoding writes
    ("\n\r\u2028", ""),
])
def test_one_line(text, expected):
    assert one_line(text) == expected


@pytest.mark.parametrize("name, handle, expected", [
    ("Northwind\nCafé", "@north\rwind", ("Northwind Café", "@north wind")),
    ("\n\r", "@northwind", ("@northwind", "@northwind")),  # nothing left of the name: the handle
    ("\u2028", "\n", ("fb-1", "")),  # nor of the handle: the id
    ("N" * 199 + "\nX", "", ("N" * 199, "")),  # within the column, no space at its end
])
def test_a_profile_keeps_its_name_and_handle_on_one_line(name, handle, expected):
    assert profile_name(name, handle, "fb-1") == expected
