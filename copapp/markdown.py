"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises. Everything users write goes through here.

Raw HTML in the source is escaped by markdown-it (``html=False``); nh3 then keeps only an allow-list of tags,
attributes and URL schemes, so script tags, event attributes and ``javascript:``/``data:`` URLs never survive.
Links get ``rel="nofollow ugc noopener"``. Images are allowed only from the space's own files (``/files/<id>/``).

Two opt-in extras, both applied to markdown-it's tokens (never to HTML strings) and sanitised like the rest:
``linkify=True`` turns bare ``https://`` URLs into links (posts), and ``mentions`` turns ``@handle`` into a link
to the member's profile for the handles the caller resolved (``mention_handles`` finds them in the same way).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
# Bare URLs become links only with their scheme written out: "settings.py" or "e.g." must stay text.
_md_linkify = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False}).enable(
    ["table", "strikethrough", "linkify"]
)
_md_linkify.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})

# An @handle: not preceded by a word character, "@", "/" or "." (e-mail addresses, URLs), and not ending in
# punctuation, so "@ana." and "(@ana)" mention ana.
MENTION = re.compile(r"(?<![\w@/.+-])@([\w](?:[\w.+-]{0,148}[\w])?)")
MAX_MENTIONS = 20

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "code",
    "em",
    "strong",
    "del",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "code": {"class"},
}
# Images are served inline only by ``spaces:file-inline``; downloads (``/files/<id>/<name>``) are attachments.
FILE_URL = re.compile(r"^/files/(\d+)/inline/[^/?#]+$")


def _attribute_filter(allowed_file_ids: set[int] | None):
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            match = FILE_URL.match(value)
            if not match:
                return None
            if allowed_file_ids is not None and int(match.group(1)) not in allowed_file_ids:
                return None
        if tag == "code" and attribute == "class" and not re.fullmatch(r"language-[\w+-]{1,30}", value):
            return None
        return value

    return keep


def sanitize_html(html: str, *, allowed_file_ids: Iterable[int] | None = None) -> str:
    """nh3's cleaning, repeated until it changes nothing (at most ``_CLEAN_PASSES`` times).

    One pass is not always final: misnested markup (a table inside an unclosed ``<strong>``) comes out in a form
    that the HTML parser rebuilds differently when it reads it again, so what is stored and what a browser (or a
    later edit) reads could differ. Found by the property tests (tests/security/test_sanitise_properties.py).
    """
    ids = set(allowed_file_ids) if allowed_file_ids is not None else None

    def clean(text: str) -> str:
        return nh3.clean(
            text,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            attribute_filter=_attribute_filter(ids),
            url_schemes={"http", "https", "mailto"},
            link_rel="nofollow ugc noopener",
            strip_comments=True,
        )

    cleaned = clean(html)
    for _pass in range(_CLEAN_PASSES):
        again = clean(cleaned)
        if again == cleaned:
            break
        cleaned = again
    return cleaned


_CLEAN_PASSES = 4


def _mention_texts(tokens):
    """The inline text tokens where a mention may appear: outside links, code and images."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        depth = 0
        for token in block.children:
            if token.type == "link_open":
                depth += 1
            elif token.type == "link_close":
                depth -= 1
            elif token.type == "text" and depth == 0:
                yield block, token


def mention_handles(source: str) -> list[str]:
    """The distinct @handles in ``source`` (lower-cased, first ``MAX_MENTIONS``), ignoring code and links."""
    if "@" not in (source or ""):
        return []
    handles: list[str] = []
    for _block, token in _mention_texts(_md_linkify.parse(source)):
        for match in MENTION.finditer(token.content):
            handle = match.group(1).lower()
            if handle not in handles:
                handles.append(handle)
                if len(handles) == MAX_MENTIONS:
                    return handles
    return handles


def _link_mentions(tokens, mentions: Mapping[str, str]) -> None:
    """Replace ``@handle`` in text tokens with a link to ``mentions[handle]``; unknown handles stay text."""
    from markdown_it.token import Token

    for block, token in list(_mention_texts(tokens)):
        text, parts, last = token.content, [], 0
        for match in MENTION.finditer(text):
            url = mentions.get(match.group(1).lower())
            if url is None:
                continue
            if match.start() > last:
                parts.append(Token("text", "", 0, content=text[last : match.start()]))
            parts.append(Token("link_open", "a", 1, attrs={"href": url}))
            parts.append(Token("text", "", 0, content=match.group(0)))
            parts.append(Token("link_close", "a", -1))
            last = match.end()
        if not parts:
            continue
        if last < len(text):
            parts.append(Token("text", "", 0, content=text[last:]))
        at = block.children.index(token)
        block.children[at : at + 1] = parts


def render_markdown(
    source: str,
    *,
    allowed_file_ids: Iterable[int] | None = None,
    linkify: bool = False,
    mentions: Mapping[str, str] | None = None,
) -> str:
    """Render user Markdown to HTML that is safe to mark as safe in templates.

    ``mentions`` maps lower-cased handles to profile URLs; ``linkify`` links bare ``http(s)://`` URLs.
    """
    md = _md_linkify if linkify else _md
    if not mentions:
        return sanitize_html(md.render(source or ""), allowed_file_ids=allowed_file_ids)
    tokens = md.parse(source or "")
    _link_mentions(tokens, mentions)
    return sanitize_html(md.renderer.render(tokens, md.options, {}), allowed_file_ids=allowed_file_ids)
