"""No untranslated string: every message of the templates and the code has a real zh-Hans and ru translation,
and the committed .mo files say exactly what the .po files say.

makemessages runs on a copy of the sources (so the working tree is never touched) and merges into a copy of
the committed catalogs: a new or changed message shows up there untranslated and fails this test."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.services import need

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("ru", "zh_Hans")
SOURCES = ("accounts", "roles", "audit", "reviews", "onboarding", "dashboard", "ozonseat", "templates", "api")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")


def catalog_paths(root: Path = ROOT) -> list[Path]:
    """The project's catalog and any app's own (makemessages puts an app's messages in its locale/)."""
    return sorted(
        path
        for path in [
            *root.glob("locale/*/LC_MESSAGES/django.po"),
            *root.glob("*/locale/*/LC_MESSAGES/django.po"),
        ]
        if ".venv" not in path.parts
    )


def catalogs(language: str, root: Path = ROOT) -> dict[str, polib.POFile]:
    paths = [path for path in catalog_paths(root) if path.parent.parent.name == language]
    return {str(path.relative_to(root)): polib.pofile(str(path)) for path in paths}


def problems(po: polib.POFile) -> list[str]:
    found = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {entry.msgid!r}")
            continue
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if not translations or not all(text.strip() for text in translations):
            found.append(f"untranslated: {entry.msgid!r}")
            continue
        expected = sorted(set(PLACEHOLDER.findall(entry.msgid)))
        for text in translations:
            if sorted(set(PLACEHOLDER.findall(text))) != expected:
                found.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
    return found


@pytest.fixture(scope="module")
def fresh_catalogs(tmp_path_factory):
    need(shutil.which("xgettext") is not None, "needs GNU gettext (apt-get install gettext) for makemessages")
    copy = tmp_path_factory.mktemp("sources")
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    for name in (*SOURCES, "locale"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-location",
            "--no-obsolete",
            *(f"--locale={language}" for language in LANGUAGES),
        ],
        cwd=copy,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "1",
            "OZONSEAT_VAR_DIR": str(copy / "var"),
            "DJANGO_SETTINGS_MODULE": "ozonseat.settings",
            "PYTHONPATH": str(copy),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {language: catalogs(language, copy) for language in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_templates_and_code_is_translated(fresh_catalogs, language):
    found = fresh_catalogs[language]
    assert sum(len(po) for po in found.values()) > 200  # the catalogs really were extracted
    assert {name: problems(po) for name, po in found.items() if problems(po)} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_catalogs_have_no_untranslated_or_fuzzy_entries(language):
    found = catalogs(language)
    assert found
    assert {name: problems(po) for name, po in found.items() if problems(po)} == {}


@pytest.mark.parametrize("path", catalog_paths(), ids=lambda path: str(path.relative_to(ROOT)))
def test_compiled_mo_files_match_the_po_files(path):
    po = polib.pofile(str(path))
    mo_path = path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages` and commit it"
    mo = polib.mofile(str(mo_path))
    compiled = {(entry.msgctxt, entry.msgid): entry for entry in mo}
    for entry in po.translated_entries():
        if "fuzzy" in entry.flags:
            continue
        found = compiled.get((entry.msgctxt, entry.msgid))
        assert found is not None, f"{entry.msgid!r} is not compiled: run `make messages`"
        if entry.msgid_plural:
            assert {int(k): v for k, v in found.msgstr_plural.items()} == {
                int(k): v for k, v in entry.msgstr_plural.items()
            }, entry.msgid
        else:
            assert found.msgstr == entry.msgstr, f"{entry.msgid!r} is compiled out of date"
    assert len([e for e in mo if e.msgid]) == len(po.translated_entries())


def test_pages_really_come_out_translated(client, db):
    for language, heading in (
        ("ru", "Создайте учётную запись для своей компании"),
        ("zh-hans", "为您的企业创建账户"),
    ):
        page = client.get("/signup/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert heading in page
