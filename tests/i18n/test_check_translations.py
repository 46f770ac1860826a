"""The translation check of CI (scripts/check_translations.py): it fails on a string marked in the code but
missing from the catalog, on untranslated, fuzzy and identical-to-English entries, on lost placeholders and on a
stale .mo, and passes on the real catalog."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.i18n.helpers import load_check_module

check = load_check_module()

HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: fr\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

"""

needs_gettext = pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs the gettext tools")


def problems_of(po_body: str, allowlist: frozenset[str] = frozenset()) -> list[str]:
    return check.catalog_problems(check.parse_po(HEADER + po_body), set(allowlist))


def test_a_translated_entry_passes():
    assert problems_of('msgid "Save profile"\nmsgstr "Enregistrer le profil"\n') == []


def test_an_untranslated_entry_fails():
    assert problems_of('msgid "Save profile"\nmsgstr ""\n') == ["untranslated: 'Save profile'"]


def test_a_fuzzy_entry_fails_even_when_it_has_a_text():
    problems = problems_of('#, fuzzy\nmsgid "Save profile"\nmsgstr "Enregistrer le profil"\n')

    assert problems == ["fuzzy: 'Save profile'"]


def test_a_translation_identical_to_the_english_fails_unless_allowlisted():
    body = 'msgid "Notifications"\nmsgstr "Notifications"\n\nmsgid "Save profile"\nmsgstr "Save profile"\n'

    problems = problems_of(body, frozenset({"Notifications"}))

    assert problems == ["same as the English (translate it, or add it to the allowlist): 'Save profile'"]


def test_a_string_without_words_may_stay_identical():
    assert problems_of('#, python-format\nmsgid "%(a)s – %(b)s"\nmsgstr "%(a)s – %(b)s"\n') == []


def test_plural_forms_are_all_required():
    body = (
        '#, python-format\nmsgid "%(n)s member"\nmsgid_plural "%(n)s members"\nmsgstr[0] "%(n)s membre"\nmsgstr[1] ""\n'
    )

    assert problems_of(body) == ["untranslated: '%(n)s member'"]


def test_a_lost_placeholder_or_tag_fails():
    lost_placeholder = '#, python-format\nmsgid "Welcome to %(name)s"\nmsgstr "Bienvenue"\n'
    lost_tag = 'msgid "Read the <a href=\\"/x\\">guide</a>"\nmsgstr "Lisez le guide"\n'

    assert problems_of(lost_placeholder)[0].startswith("placeholders differ")
    assert problems_of(lost_tag) == ["HTML tags differ: 'Read the <a href=\"/x\">guide</a>'"]


def test_a_percent_sign_in_french_typography_is_no_placeholder():
    assert problems_of('msgid "Share of members in %"\nmsgstr "Part des membres en %"\n') == []
    assert problems_of('msgid "100% of them"\nmsgstr "100 % d\'entre eux"\n') == []


def test_the_parser_reads_contexts_multiline_strings_and_skips_obsolete_entries():
    body = 'msgctxt "date format"\nmsgid ""\n"j M "\n"Y"\nmsgstr "j F Y"\n\n#~ msgid "Gone"\n#~ msgstr "Parti"\n'

    [entry] = check.parse_po(HEADER + body)

    assert (entry.msgctxt, entry.msgid, entry.msgstr) == ("date format", "j M Y", "j F Y")


def _catalog(locale_dir: Path, body: str) -> Path:
    po_path = locale_dir / "fr" / "LC_MESSAGES" / "django.po"
    po_path.parent.mkdir(parents=True, exist_ok=True)
    po_path.write_text(HEADER + body, encoding="utf-8")
    subprocess.run(["msgfmt", "-o", str(po_path.with_suffix(".mo")), str(po_path)], check=True)  # noqa: S607
    return po_path


@needs_gettext
def test_a_string_added_to_a_template_but_missing_from_the_catalog_fails(tmp_path):
    source = tmp_path / "src"
    (source / "templates").mkdir(parents=True)
    (source / "templates" / "page.html").write_text(
        '{% load i18n %}<h1>{% translate "Members of the group" %}</h1><p>{% translate "A brand new sentence" %}</p>'
    )
    locale_dir = tmp_path / "locale"
    _catalog(locale_dir, 'msgid "Members of the group"\nmsgstr "Membres du groupe"\n')

    problems = check.check(locale_dir=locale_dir, source_root=source, allowlist_file=tmp_path / "none.txt")

    assert len(problems) == 2  # missing from the catalog, hence untranslated too
    assert all("'A brand new sentence'" in problem for problem in problems)
    assert any("missing from the catalog" in problem for problem in problems)


@needs_gettext
def test_a_string_added_to_python_code_but_missing_from_the_catalog_fails(tmp_path):
    source = tmp_path / "src"
    (source / "app").mkdir(parents=True)
    (source / "app" / "views.py").write_text(
        'from django.utils.translation import gettext as _\n\nMESSAGE = _("Your report was saved.")\n'
    )
    locale_dir = tmp_path / "locale"
    _catalog(locale_dir, "")

    problems = check.check(locale_dir=locale_dir, source_root=source, allowlist_file=tmp_path / "none.txt")

    assert any("missing from the catalog: 'Your report was saved.'" in problem for problem in problems)


@needs_gettext
def test_a_complete_catalog_of_the_marked_strings_passes_and_a_stale_mo_fails(tmp_path):
    source = tmp_path / "src"
    (source / "templates").mkdir(parents=True)
    (source / "templates" / "page.html").write_text('{% load i18n %}{% translate "Members of the group" %}')
    locale_dir = tmp_path / "locale"
    po_path = _catalog(locale_dir, 'msgid "Members of the group"\nmsgstr "Membres du groupe"\n')

    assert check.check(locale_dir=locale_dir, source_root=source, allowlist_file=tmp_path / "none.txt") == []

    po_path.write_text(HEADER + 'msgid "Members of the group"\nmsgstr "Les membres du groupe"\n', encoding="utf-8")
    problems = check.check(locale_dir=locale_dir, source_root=source, allowlist_file=tmp_path / "none.txt")

    assert len(problems) == 1
    assert problems[0].endswith("django.mo is out of date (run scripts/check_translations.py --update)")


@needs_gettext
def test_the_real_catalog_is_complete():
    assert check.check() == []
