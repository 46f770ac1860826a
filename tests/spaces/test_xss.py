"""An XSS corpus through page titles, bodies, edit summaries, old versions, diffs and the conflict screen.

Every HTML response that shows the text must be inert: no script other than the site's own, no event
attributes, no ``javascript:``/``vbscript:``/``data:`` URL in any link or source, no frames, SVG or objects.
Attribute values are read the way a browser does (entities decoded, whitespace and control characters
dropped).
"""

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.test import Client

from copapp.markdown import render_markdown
from spaces import services
from spaces.models import Page, SpaceRole, Visibility
from tests.factories import add_member, make_space, make_user
from tests.spaces.helpers import client_for, space_url
from tests.spaces.test_pages import page_url

CORPUS = [
    # script tags
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script><'",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    # event attributes
    "<img src=x onerror=alert(1)>",
    '<img src="x" ONERROR="alert(1)">',
    "<body onload=alert(1)>",
    '<div onmouseover="alert(1)">hover me</div>',
    '" onmouseover="alert(1)" x="',
    "<details open ontoggle=alert(1)>",
    # SVG payloads
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="0" y="20">x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    # javascript: links: mixed case, entity-encoded, whitespace tricks
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;script&colon;alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" \tjavascript:alert(1)">x</a>',
    '<a href="java\nscript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    # data: URLs
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    # raw frames
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<embed src="javascript:alert(1)">',
    # Markdown link tricks
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( javascript:alert(1) )",
    "[x](java%0ascript:alert(1))",
    "![x](javascript:alert(1))",
    '![x](/files/1/inline/a.png" onerror="alert(1))',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    '[x](https://example.org "t\\" onmouseover=\\"alert(1)")',
    "[<img src=x onerror=alert(1)>](https://example.org)",
    "```\n<script>alert(1)</script>\n```",
]

DANGEROUS_TAGS = {
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "base",
    "animate",
}
URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "srcset",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class InertChecker(HTMLParser):
    """Collects everything in a page that would run script."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script {attrs}>")
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "srcdoc":
                self.problems.append(f"<{tag} srcdoc>")
            if name in URL_ATTRIBUTES and value:
                url = re.sub(r"[\x00-\x20]+", "", value).lower()
                if url.startswith(BAD_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def assert_inert(html: str, where: str) -> None:
    checker = InertChecker()
    checker.feed(html)
    checker.close()
    assert checker.problems == [], where
    own_scripts = re.findall(r"<script\b[^>]*>", html, flags=re.I)
    assert all(re.fullmatch(r'<script src="/static/[^"]+" defer>', tag) for tag in own_scripts), (
        where,
        own_scripts,
    )


@pytest.fixture
def site(staff, community):
    space = make_space(staff, community, Visibility.OPEN, slug="xss")
    editor, other = make_user("editor"), make_user("other")
    for user in (editor, other):
        add_member(space, user, SpaceRole.EDITOR, by=staff)
    return SimpleNamespace(staff=staff, space=space, editor=editor, other=other)


def surfaces(site, payload: str) -> dict[str, str]:
    """Every page that shows a title, body or summary made of ``payload``, as the HTML a browser gets."""
    page = services.page_create(
        actor=site.editor, space=site.space, title=f"T {payload}", body=payload, summary=payload[:100]
    )
    services.page_update(
        actor=site.editor,
        page=page,
        title=f"{payload} v2",
        body=f"{payload} changed",
        base_version=1,
        summary=payload[:100],
    )
    page = Page.objects.select_related("space__community").get(pk=page.pk)
    editor, anonymous = client_for(site.editor), Client()
    pages = {
        "detail": anonymous.get(page_url("page-detail", page)),
        "page list": editor.get(space_url("pages", site.space)),
        "space home": anonymous.get(site.space.get_absolute_url()),
        "history": editor.get(page_url("page-history", page)),
        "old version": anonymous.get(page_url("page-version", page, version=1)),
        "new version": anonymous.get(page_url("page-version", page, version=2)),
        "diff": anonymous.get(page_url("page-diff", page) + "?from=1&to=2"),
        "edit form": editor.get(page_url("page-edit", page)),
        "restrictions": editor.get(page_url("page-restrictions", page)),
        "move": editor.get(page_url("page-move", page)),
        "conflict": client_for(site.other).post(
            page_url("page-edit", page),
            {"title": f"{payload} mine", "body": f"mine {payload}", "base_version": 1},
        ),
    }
    child = services.page_create(actor=site.editor, space=site.space, title="Child", parent=page)
    pages["subpage breadcrumbs"] = anonymous.get(page_url("page-detail", child))
    pages["subpage list"] = anonymous.get(page_url("page-detail", page))
    assert {name: r.status_code for name, r in pages.items()} == {
        **dict.fromkeys(pages, 200),
        "conflict": 409,
    }
    return {name: response.content.decode() for name, response in pages.items()}


@pytest.mark.parametrize("payload", CORPUS)
def test_page_title_body_summary_and_diff_render_inert(site, payload):
    html = surfaces(site, payload)

    for where, content in html.items():
        assert_inert(content, where)


@pytest.mark.parametrize("payload", CORPUS)
def test_markdown_renderer_output_is_inert(payload):
    assert_inert(render_markdown(payload), "render_markdown")
    assert_inert(render_markdown(payload, allowed_file_ids=[1]), "render_markdown with files")


def test_checker_catches_what_it_is_meant_to():
    """The corpus proves nothing if the checker would let payloads through: feed it live ones."""
    live = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href=" java\tscript:alert(1)">x</a>',
        '<a href="DATA:text/html,x">x</a>',
        "<svg></svg>",
        '<iframe srcdoc="x"></iframe>',
    ]

    for html in live:
        with pytest.raises(AssertionError):
            assert_inert(html, html)


def test_titles_are_shown_as_text_not_markup(site):
    payload = '<img src=x onerror=alert(1)>"><script>alert(1)</script>'

    html = surfaces(site, payload)

    escaped = "&lt;img src=x onerror=alert(1)&gt;&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert f"{escaped} v2</h1>" in html["detail"]
    assert f"T {escaped}" in html["history"] or f"{escaped} v2" in html["history"]
    assert f"<td>{escaped}</td>" in html["history"]
    assert escaped in html["diff"]
