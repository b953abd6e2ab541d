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


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def csv_bytes(rows) -> bytes:
    """Rows (the first is the header) as a CSV file spreadsheet programs open in UTF-8 (with a BOM)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(rows, *, title: str = "Sheet") -> bytes:
    """Rows (the first is the header) as an XLSX workbook of one sheet; text cells through safe_cell, so a
    value that looks like a formula stays text. Numbers stay numbers."""
    import io

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([value if isinstance(value, int | float) else safe_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def read_rows(content: bytes, filename: str) -> list[list[str]]:
    """The rows of an uploaded CSV (UTF-8, with or without a BOM; comma, semicolon or tab separated) or
    XLSX file (its first sheet), every cell as text. Raises ValueError for a file that is neither."""
    import csv
    import io

    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
            raise ValueError(str(error)) from None
        sheet = workbook.worksheets[0]
        rows = [
            ["" if cell is None else _text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)
        ]
        workbook.close()
        return rows
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _text(value) -> str:
    import datetime

    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
