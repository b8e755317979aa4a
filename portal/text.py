"""One line of text from outside: what a name or a handle may hold.

Names come from the networks (a profile's name, its handle) and from the
agencies' own forms (an agency's, a person's), and end up in email headers,
where a line break ends the header: Flask-Mail refuses such a message, and
Python's email package breaks a header at any character `str.splitlines`
knows as a line end (U+2028 too). A pure rule, so that the store, the
migration that cleaned the rows of before and the mail headers apply the same.
"""
import unicodedata

# Control characters (Cc) and the line and paragraph separators end a line:
# each is a space between the words around it.
_BREAKS = frozenset({"Cc", "Zl", "Zp"})
# Dropped: format characters (Cf), which are invisible (a zero-width space,
# a byte order mark, the direction overrides that make a name read
# backwards), except the joiners emoji and some scripts are written with and
# the tags of a region's flag; and half a UTF-16 pair alone (Cs: a JSON
# answer may escape one), which no encoding writes.
_DROPPED = frozenset({"Cf", "Cs"})
_KEPT_FORMAT = frozenset({"\u200c", "\u200d"})
_TAGS = range(0xE0020, 0xE0080)


def one_line(text):
    """`text` without control, format, surrogate or line-separator
    characters, each run of spaces one space, none at either end; "" for
    None. Other spaces stay: French writes a non-breaking one before a colon."""
    if not text:
        return ""
    if text.isprintable():  # no control, format or separator character but the ASCII space
        return _spaced(text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in _BREAKS:
            kept.append(" ")
        elif category not in _DROPPED or char in _KEPT_FORMAT or ord(char) in _TAGS:
            kept.append(char)
    return _spaced("".join(kept))


def _spaced(text):
    return " ".join(word for word in text.split(" ") if word)


def profile_name(name, handle, external_id, length=200):
    """(name, handle) as a profile keeps them: what the network sent, each on
    one line (a name goes into email subjects) and within its column of
    `length`; the handle, else the id, names a profile whose name was nothing
    but control characters."""
    handle = one_line(handle)[:length].rstrip()
    return (one_line(name)[:length].rstrip() or handle or external_id), handle
