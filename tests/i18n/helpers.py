"""What a French page must not contain: the English interface strings of the catalog, and English words."""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PO_PATH = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"

# Words that never occur in French text; any of them in a French page is an untranslated string (ours, Django's or
# allauth's). Test data avoids them.
ENGLISH_WORDS = frozenset(
    "the and your you with this that from have has are was been will of to is by for at yet more than".split()
)
# English one-word msgids that are also French words ("File de modération", "Comment suivre").
FRENCH_HOMOGRAPHS = frozenset({"File", "Comment"})
# Attributes whose values people read or hear.
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-confirm", "hx-confirm", "aria-description"}


def load_check_module():
    """scripts/check_translations.py (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("check_translations", ROOT / "scripts" / "check_translations.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_translations", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return sys.modules["check_translations"]


class _TextCollector(HTMLParser):
    """The text a person reads or hears on a page: text nodes and the read attributes, without scripts and
    styles. (User content is test data, written in French.)"""

    SKIP = {"script", "style", "template"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.page_language = ""

    def _skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if not self._skipping():
            self.parts.extend(value for name, value in attrs if name in READ_ATTRIBUTES and value)
            if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
                self.parts.append(values["value"])
        if tag not in self.VOID:
            # IANA time zone names ("Europe/Isle of Man") are identifiers, not interface text.
            zone = tag == "option" and "/" in (values.get("value") or "")
            # An element in another language on purpose (the switcher names each language in itself).
            if tag == "html":
                self.page_language = values.get("lang") or ""
            other_language = tag != "html" and bool(values.get("lang")) and values["lang"] != self.page_language
            self.stack.append((tag, tag in self.SKIP or zone or other_language))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if not self._skipping():
            self.parts.append(data)


def visible_text(html: str) -> str:
    collector = _TextCollector()
    collector.feed(html)
    return " ".join(" ".join(collector.parts).split())


@cache
def english_fragments() -> frozenset[str]:
    """Every piece of an English msgid of two words or more between its placeholders and tags, except the
    allowlisted strings that are the same in French."""
    check = load_check_module()
    allowlist = check.read_allowlist()
    fragments = set()
    for entry in check.read_po(PO_PATH):
        if entry.msgid in allowlist:
            continue
        for source in filter(None, (entry.msgid, entry.msgid_plural)):
            for piece in re.split(r"%\([^)]+\)[sd]|%[sd]|<[^>]*>|&[a-z]+;", source):
                piece = " ".join(piece.split()).strip(" .,:;·()“”\"'")
                if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 2:
                    fragments.add(piece)
    return frozenset(fragments)


@cache
def english_single_words() -> frozenset[str]:
    """The one-word English msgids ("Save", "Delete") that are not the same in French."""
    check = load_check_module()
    allowlist = check.read_allowlist()
    return frozenset(
        entry.msgid
        for entry in check.read_po(PO_PATH)
        if entry.msgid not in allowlist and re.fullmatch(r"[A-Z][a-z]+", entry.msgid)
    )


def english_leftovers(html: str) -> list[str]:
    """English msgid fragments, one-word English msgids and English words found in the visible text of a page."""
    text = visible_text(html)
    found = sorted(fragment for fragment in english_fragments() if fragment in text)
    words = set(re.findall(r"[^\W\d_]+", text))
    found += sorted(f"msgid: {word}" for word in (words & english_single_words()) - FRENCH_HOMOGRAPHS)
    found += sorted(f"word: {word}" for word in words if word.lower() in ENGLISH_WORDS)
    return found
