"""CSV as a spreadsheet reads it, safely: a cell that would start a formula
gets a leading apostrophe (OWASP, "CSV Injection"), and rows are written a
batch at a time."""
import csv
import io

# A cell a spreadsheet would read as a formula starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows):
    """`rows` (lists of cells, made safe by the caller) as CSV text."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()
