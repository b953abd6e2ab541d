"""CSV cells that spreadsheet programs open safely: every export (the audit log's, an access review's
report) writes its values through `safe_cell`."""

import json


def safe_cell(value) -> str:
    """A value as CSV text: lists and dicts as JSON, None as empty. Spreadsheets run cells that start like a
    formula (= + - @, or a tab or carriage return before one): such a cell gets a leading apostrophe."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
