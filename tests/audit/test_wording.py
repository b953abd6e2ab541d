"""How audit events are worded in Russian and Chinese: one consistent past tense in Russian sentences, labels
that say what happened, and no audit message whose translation the project's catalog silently replaces."""

import re

import polib
import pytest
from django.utils import translation

from audit import events
from tests.test_translations import ROOT

# "{actor} выдал(а) роль …": a past-tense verb with its feminine ending, as every Russian sentence about  # noqa: RUF003
# what someone did is worded (never the present tense, "{actor} выдаёт роль").
RUSSIAN_PAST_TENSE = re.compile(r"^\{actor\} (?:повторно )?[а-яё]+(?:\(а\)|\(-ла\))(?: |$)")  # noqa: RUF001


def sentences_with_an_actor():
    return [
        event_type for event_type in events.all_event_types() if event_type.template.startswith("{actor} ")
    ]


def test_every_russian_sentence_about_someone_is_in_the_past_tense():
    with translation.override("ru"):
        wrong = {
            event_type.action: str(event_type.template)
            for event_type in sentences_with_an_actor()
            if not RUSSIAN_PAST_TENSE.match(str(event_type.template))
        }
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("language", "label"), [("en", "Signed in"), ("ru", "Вход в систему"), ("zh-hans", "登录")]
)
def test_the_sign_in_event_is_labelled_as_a_sign_in_not_a_time(language, label):
    with translation.override(language):
        assert str(events.get_event_type(events.LOGIN).label) == label


def _catalog(path):
    return {(entry.msgctxt, entry.msgid): entry for entry in polib.pofile(str(path)) if not entry.obsolete}


@pytest.mark.parametrize("language", ["ru", "zh_Hans"])
def test_no_audit_message_is_translated_otherwise_by_the_projects_catalog(language):
    """The project's catalog (LOCALE_PATHS) takes precedence over an app's: a message in both must mean the
    same, or the audit log shows the project's words (as it once showed 登录时间, "sign-in time")."""
    project = _catalog(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
    audit = _catalog(ROOT / "audit" / "locale" / language / "LC_MESSAGES" / "django.po")
    differing = {
        key: (entry.msgstr or entry.msgstr_plural, project[key].msgstr or project[key].msgstr_plural)
        for key, entry in audit.items()
        if key in project
        and (entry.msgstr, entry.msgstr_plural) != (project[key].msgstr, project[key].msgstr_plural)
    }
    assert not differing, differing
