"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises. Everything users write goes through here.

Raw HTML in the source is escaped by markdown-it (``html=False``); nh3 then keeps only an allow-list of tags,
attributes and URL schemes, so script tags, event attributes and ``javascript:``/``data:`` URLs never survive.
Links get ``rel="nofollow ugc noopener"``. Images are allowed only from the space's own files (``/files/<id>/``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

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
    ids = set(allowed_file_ids) if allowed_file_ids is not None else None
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter(ids),
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
        strip_comments=True,
    )


def render_markdown(source: str, *, allowed_file_ids: Iterable[int] | None = None) -> str:
    """Render user Markdown to HTML that is safe to mark as safe in templates."""
    return sanitize_html(_md.render(source or ""), allowed_file_ids=allowed_file_ids)
