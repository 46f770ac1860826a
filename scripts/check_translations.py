#!/usr/bin/env python3
"""Keep every translation complete (issue 8, item 4). Run with the project's python from the project root:

    .venv/bin/python scripts/check_translations.py            # the CI check; changes nothing, exit 1 on a problem
    .venv/bin/python scripts/check_translations.py --update   # collect new strings into locale/, compile .mo files

The check extracts the marked strings of the code and templates afresh (``makemessages``, into a temporary copy
of ``locale/``, merged with the translations there) and fails, for every language in ``settings.LANGUAGES`` but
the source language, on:

- a string marked in the code that is missing from the catalog (run ``--update``, then translate it);
- an untranslated string, a ``#, fuzzy`` one (msgmerge's guess, never reviewed), or one whose translation is
  the English text itself, unless it is listed in ``scripts/translation_allowlist.txt`` (words that really are
  the same in both languages) or has no words at all (only placeholders, numbers or punctuation);
- a translation that loses or adds a placeholder (``%(name)s``, ``%s``, ``{name}``) or an HTML tag;
- a catalog that ``msgfmt --check-format`` refuses, or a compiled ``.mo`` that differs from its ``.po``.

The compiled ``.mo`` files are committed, so a checkout runs translated without the gettext tools; ``--update``
rebuilds them (it needs ``xgettext``, ``msgmerge`` and ``msgfmt``: ``apt-get install gettext``).
"""

from __future__ import annotations

import argparse
import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale"
ALLOWLIST_FILE = ROOT / "scripts" / "translation_allowlist.txt"
DOMAIN = "django"
# Everything makemessages must not read: tools, tests (their strings are not the interface), vendored and
# generated files, uploads.
IGNORE = [
    ".venv",
    "node_modules",
    "static/vendor",
    "staticfiles",
    "tests",
    "bench",
    "docs",
    "scripts",
    "media",
    "private-media",
    "ci-artifacts",
    "sent-emails",
    "*.egg-info",
]
# File names without line numbers: a translator sees where a string is used, and moving code does not churn the .po.
MAKEMESSAGES_OPTIONS = {"add_location": "file", "no_obsolete": True, "verbosity": 0}

# No space flag: French puts a space before "%" ("12 % des membres"), which must not read as "% d".
PLACEHOLDER_RE = re.compile(r"%(?:\([^)]+\))?[-#0+]*\d*(?:\.\d+)?[sdifrxXeEgGc%]|\{[a-zA-Z_][a-zA-Z0-9_]*\}")
TAG_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b")


# --- Reading .po files ------------------------------------------------------------------------------------------
@dataclass
class Entry:
    msgid: str
    msgstr: str = ""
    msgid_plural: str | None = None
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    msgctxt: str | None = None
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[n] for n in sorted(self.msgstr_plural)] or [""]

    @property
    def where(self) -> str:
        return f" ({self.references[0]})" if self.references else ""


def _unquote(text: str) -> str:
    return ast.literal_eval(text.strip())


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file (the header and obsolete ``#~`` entries left out)."""
    entries: list[Entry] = []
    current: Entry | None = None
    flags: set[str] = set()
    references: list[str] = []
    target: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal current
        if current is not None and current.msgid != "":
            entries.append(current)
        current = None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            finish()
            flags = {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#:"):
            finish()
            references.extend(line[2:].split())
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            if current is None or target is None:
                continue
            name, index = target
            value = _unquote(line)
            if name == "msgstr" and index is not None:
                current.msgstr_plural[index] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgctxt":
            finish()
            current = Entry(msgid="", msgctxt=_unquote(rest), flags=flags, references=references)
            flags, references = set(), []
            target = ("msgctxt", None)
        elif keyword == "msgid":
            if current is None or current.msgid or target != ("msgctxt", None):
                finish()
                current = Entry(msgid="", flags=flags, references=references)
                flags, references = set(), []
            current.msgid = _unquote(rest)
            target = ("msgid", None)
        elif keyword == "msgid_plural" and current is not None:
            current.msgid_plural = _unquote(rest)
            target = ("msgid_plural", None)
        elif keyword == "msgstr" and current is not None:
            current.msgstr = _unquote(rest)
            target = ("msgstr", None)
        elif keyword.startswith("msgstr[") and current is not None:
            index = int(keyword[len("msgstr[") : -1])
            current.msgstr_plural[index] = _unquote(rest)
            target = ("msgstr", index)
    finish()
    return entries


def read_po(path: Path) -> list[Entry]:
    return parse_po(path.read_text(encoding="utf-8"))


def read_allowlist(path: Path = ALLOWLIST_FILE) -> set[str]:
    """One msgid a line; blank lines and ``#`` comments ignored."""
    if not path.exists():
        return set()
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


# --- Judging entries ----------------------------------------------------------------------------------------------
def has_words(text: str) -> bool:
    """Whether ``text`` holds anything to translate once placeholders and tags are taken out."""
    bare = PLACEHOLDER_RE.sub("", re.sub(r"<[^>]*>", "", text))
    return bool(re.search(r"[^\W\d_]{2,}", bare))


def entry_problems(entry: Entry, allowlist: set[str], known: set[tuple[str | None, str]] | None = None) -> list[str]:
    """What is wrong with one entry, as sentences (empty when it is fine)."""
    label = repr(entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}|{entry.msgid}")
    problems = []
    if known is not None and entry.key not in known:
        problems.append(f"missing from the catalog: {label}{entry.where} (run scripts/check_translations.py --update)")
    if "fuzzy" in entry.flags:
        problems.append(f"fuzzy: {label}{entry.where}")
    translations = entry.translations
    if any(not text for text in translations):
        problems.append(f"untranslated: {label}{entry.where}")
        return problems
    sources = [entry.msgid] if entry.msgid_plural is None else [entry.msgid, entry.msgid_plural]
    for text in translations:
        if text in sources and has_words(text) and entry.msgid not in allowlist:
            problems.append(f"same as the English (translate it, or add it to the allowlist): {label}{entry.where}")
            break
    wanted_placeholders = Counter(PLACEHOLDER_RE.findall(entry.msgid_plural or entry.msgid))
    wanted_tags = Counter(tag.lower() for tag in TAG_RE.findall(entry.msgid))
    for index, text in enumerate(translations):
        found = Counter(PLACEHOLDER_RE.findall(text))
        # A singular form may leave the count out ("un membre" for "%(n)s member").
        if entry.msgid_plural is not None and index == 0:
            extra = found - Counter(PLACEHOLDER_RE.findall(entry.msgid)) - wanted_placeholders
        else:
            extra = found - wanted_placeholders
        missing = wanted_placeholders - found if entry.msgid_plural is None or index > 0 else Counter()
        if missing or extra:
            problems.append(f"placeholders differ ({sorted(missing)} missing, {sorted(extra)} extra): {label}")
            break
        if Counter(tag.lower() for tag in TAG_RE.findall(text)) != wanted_tags:
            problems.append(f"HTML tags differ: {label}")
            break
    return problems


def catalog_problems(
    entries: list[Entry], allowlist: set[str], known: set[tuple[str | None, str]] | None = None
) -> list[str]:
    """Every problem of a catalog; ``known``: the keys of the committed catalog, to name strings missing from it."""
    return [problem for entry in entries for problem in entry_problems(entry, allowlist, known)]


# --- Running the gettext tools ----------------------------------------------------------------------------------------
def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "copapp.settings")
    import django

    django.setup()


def target_languages() -> list[str]:
    from django.conf import settings

    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def makemessages(locale_dir: Path, languages: list[str], source_root: Path = ROOT) -> None:
    """Django's makemessages, writing into ``locale_dir`` (merged with what is there) whatever LOCALE_PATHS says."""
    from django.core.management import call_command
    from django.core.management.commands import makemessages as command

    class Command(command.Command):
        # Django sends each file's strings to the nearest locale/ folder; all of ours go to ``locale_dir``.
        def find_files(self, root):
            files = super().find_files(root)
            for translatable in files:
                translatable.locale_dir = str(locale_dir)
            self.locale_paths = [str(locale_dir)]
            return files

    cwd = os.getcwd()
    os.chdir(source_root)
    try:
        call_command(Command(), locale=languages, ignore_patterns=list(IGNORE), **MAKEMESSAGES_OPTIONS)
    finally:
        os.chdir(cwd)


def msgfmt(po_path: Path, mo_path: Path) -> str:
    """Compile with format checks; the tool's complaints, or "" when it compiled."""
    result = subprocess.run(  # noqa: S603 - a fixed tool, our own files
        ["msgfmt", "--check-format", "-o", str(mo_path), str(po_path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if result.returncode == 0 else (result.stderr or result.stdout).strip()


def mo_catalog(mo_path: Path) -> dict:
    with mo_path.open("rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    catalog.pop("", None)
    return catalog


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def compiled_problems(po_path: Path, mo_path: Path) -> list[str]:
    """``msgfmt --check-format`` accepts the .po, and the committed .mo says exactly what the .po says."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.mo"
        errors = msgfmt(po_path, fresh)
        if errors:
            return [f"msgfmt refuses {_shown(po_path)}:\n{errors}"]
        if not mo_path.exists():
            return [f"{_shown(mo_path)} is missing (run scripts/check_translations.py --update)"]
        if mo_catalog(fresh) != mo_catalog(mo_path):
            return [f"{_shown(mo_path)} is out of date (run scripts/check_translations.py --update)"]
    return []


def check_tools() -> list[str]:
    return [tool for tool in ("xgettext", "msgmerge", "msguniq", "msgattrib", "msgfmt") if shutil.which(tool) is None]


# --- The two commands -------------------------------------------------------------------------------------------------
def check(locale_dir: Path = LOCALE_DIR, source_root: Path = ROOT, allowlist_file: Path = ALLOWLIST_FILE) -> list[str]:
    """Every problem, for every target language; nothing is written outside a temporary folder."""
    allowlist = read_allowlist(allowlist_file)
    problems: list[str] = []
    languages = target_languages()
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp) / "locale"
        if locale_dir.exists():
            shutil.copytree(locale_dir, fresh_dir)
        fresh_dir.mkdir(exist_ok=True)
        makemessages(fresh_dir, languages, source_root)
        for code in languages:
            po_path = locale_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"
            if not po_path.exists():
                problems.append(f"[{code}] no catalog at {po_path} (run scripts/check_translations.py --update)")
                continue
            known = {entry.key for entry in read_po(po_path)}
            fresh = read_po(fresh_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po")
            problems += [f"[{code}] {problem}" for problem in catalog_problems(fresh, allowlist, known)]
            problems += [f"[{code}] {problem}" for problem in compiled_problems(po_path, po_path.with_suffix(".mo"))]
    return problems


def update(locale_dir: Path = LOCALE_DIR) -> None:
    """Collect new strings into the catalogs (keeping every translation) and compile them."""
    languages = target_languages()
    makemessages(locale_dir, languages)
    for code in languages:
        po_path = locale_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        errors = msgfmt(po_path, po_path.with_suffix(".mo"))
        if errors:
            print(f"[{code}] msgfmt: {errors}", file=sys.stderr)
        entries = read_po(po_path)
        todo = sum(1 for entry in entries if "fuzzy" in entry.flags or not all(entry.translations))
        print(f"[{code}] {_shown(po_path)}: {len(entries)} strings, {todo} to translate or review")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="collect new strings into locale/ and compile")
    args = parser.parse_args(argv)
    missing = check_tools()
    if missing:
        print(f"missing gettext tools: {', '.join(missing)} (apt-get install gettext)", file=sys.stderr)
        return 2
    setup_django()
    if args.update:
        update()
        return 0
    problems = check()
    for problem in problems:
        print(problem)
    if problems:
        print(f"\n{len(problems)} translation problem(s).", file=sys.stderr)
        return 1
    print("translations complete: " + ", ".join(target_languages()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
