"""How spreadsheet imports and the fields of their event read in the audit log (audit discovers this module
at start-up; see audit/vocabulary.py)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from audit.vocabulary import Number, register_field, register_kind

from .models import MemberImport


def _imports(ids):
    return dict(MemberImport.objects.filter(pk__in=ids).values_list("pk", "file_name"))


register_kind("memberimport", label=_("Spreadsheet import"), gone=_("a deleted import"), load=_imports)
register_field("import_rows", pgettext_lazy("audit field", "Rows in the file"), Number())
register_field("import_ready_rows", pgettext_lazy("audit field", "Rows to invite"), Number())
