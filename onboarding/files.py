"""The files of bulk onboarding: the template to fill in (in en, ru or zh-Hans) and the result of an import,
as CSV or XLSX."""

from django.utils import translation
from django.utils.translation import gettext as _

from ozonseat import spreadsheets

from .models import RowState
from .preview import COLUMNS, HEADERS, problem_text

EXAMPLES = {
    "en": [
        "anna@example.com",
        "Anna Smith",
        "en",
        "Warehouse manager",
        "Moscow store · Khimki",
        "2027-03-31",
    ],
    "ru": ["ivan@example.com", "Иван Петров", "ru", "Warehouse manager", "RU", ""],
    "zh-hans": ["li@example.com", "李伟", "zh-hans", "Warehouse manager", "*", ""],
}


def template_rows(language: str):
    with translation.override(language):
        return [[str(HEADERS[column]) for column in COLUMNS], EXAMPLES.get(language, EXAMPLES["en"])]


def result_rows(member_import, rows):
    """The file as uploaded, with what became of each row (and its problems), in the active language."""
    states = dict(RowState.choices)
    header = [str(HEADERS[column]) for column in COLUMNS] + [_("Line"), _("Result"), _("Why"), _("Member id")]
    yield header
    for row in rows:
        why = "; ".join(problem_text(problem) for problem in row.problems) or row.outcome
        yield [
            *(getattr(row, column) for column in COLUMNS),
            row.number,
            str(states[row.state]),
            why,
            row.membership_id or "",
        ]


def as_file(rows, file_format: str) -> bytes:
    if file_format == "xlsx":
        return spreadsheets.xlsx_bytes(rows, title="OzonSeat")
    return spreadsheets.csv_bytes(rows)
