"""Content-Security-Policy (issue 10, item 5): every HTML page carries the policy, and nothing in the templates
needs it loosened (no inline script, no event-handler attribute, no style attribute)."""

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from spaces import services
from spaces.models import Visibility
from spaces.services import events as event_services
from spaces.services import polls as poll_services
from spaces.services import workplan as workplan_services
from tests.spaces.helpers import client_for, space_url

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# E-mail bodies are read by mail clients, which need inline styles and never see the site's CSP header.
EMAIL_TEMPLATES = TEMPLATES / "emails"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


class InlineCode(HTMLParser):
    """Collects what a strict policy would block in a rendered page: inline scripts, style attributes and
    <style> elements, on* handlers and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self._in_inline_script = True
            self.problems.append(f"inline <script> at {self.getpos()}")
        if tag == "style":
            self.problems.append(f"<style> element at {self.getpos()}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}> at {self.getpos()}")
            if name == "style":
                self.problems.append(f"style= on <{tag}> at {self.getpos()}")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"javascript: URL on <{tag}> at {self.getpos()}")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.problems


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def main_pages(open_world):
    """(name, signed-in browser, url) for the site's main pages, with content on them."""
    w = open_world
    page = services.page_create(actor=w.editor, space=w.space, title="Record linkage", body="Match *carefully*.")
    question = services.question_ask(actor=w.editor, space=w.space, title="How to link records?", body="Any tips?")
    starts = timezone.now() + dt.timedelta(days=7)
    event = event_services.event_create(
        actor=w.editor,
        space=w.space,
        title="Linkage workshop",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        time_zone="UTC",
    )
    poll = poll_services.poll_create(actor=w.editor, space=w.space, question="Where?", options=["Lima", "Online"])
    poll_services.poll_vote(actor=w.viewer, poll=poll, option_ids=[poll.options.first().pk])
    workplan_services.milestone_create(
        actor=w.moderator, space=w.space, title="Outline", due_date=timezone.localdate() + dt.timedelta(days=5)
    )
    member = client_for(w.editor)
    return [
        ("home", member, reverse("home")),
        ("space home", member, w.space.get_absolute_url()),
        ("page", member, page.get_absolute_url()),
        ("question", member, question.get_absolute_url()),
        ("event", member, event.get_absolute_url()),
        ("poll", client_for(w.viewer), poll.get_absolute_url()),
        ("work plan", member, space_url("work-plan", w.space)),
        ("search", member, reverse("search:results") + "?q=linkage"),
        ("directory", member, reverse("members:directory")),
        ("profile", member, reverse("members:profile", kwargs={"username": w.editor.username})),
        ("notifications", member, reverse("members:notifications")),
        ("login", Client(), reverse("account_login")),
        ("api docs", member, "/api/v1/docs"),
    ]


def test_every_main_page_carries_a_strict_policy_and_renders_nothing_it_would_block(main_pages):
    for name, browser, url in main_pages:
        response = browser.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        assert response["Content-Type"].startswith("text/html"), name
        header = response["Content-Security-Policy"]
        policy = directives(header)
        assert policy["default-src"] == ["'self'"], name
        assert policy["script-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"], name
        assert policy["object-src"] == ["'none'"], name
        assert policy["frame-ancestors"] == ["'none'"], name
        assert policy["base-uri"] == ["'self'"], name
        assert policy["form-action"] == ["'self'"], name
        assert "'unsafe-inline'" not in header, name
        assert "'unsafe-eval'" not in header, name
        assert policy["img-src"] == ["'self'", "data:"], name
        html = response.content.decode()
        assert inline_code(html) == [], (name, url)
        if name in {"poll", "work plan"}:
            # The bars are <progress> elements: their width needs no style attribute.
            assert "<progress" in html, name


def test_the_two_factor_set_up_page_needs_data_images_for_its_qr_code(open_world):
    browser = client_for(open_world.editor)
    browser.post(reverse("account_reauthenticate"), {"password": "test-pass-123"})  # allauth asks before set-up
    response = browser.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert 'src="data:image/svg+xml' in response.content.decode()
    assert directives(response["Content-Security-Policy"])["img-src"] == ["'self'", "data:"]


def test_the_digest_preview_allows_the_e_mails_style_attributes_and_nothing_more(open_world):
    """The preview shows the e-mail with the inline styles mail clients need; scripts stay blocked."""
    response = client_for(open_world.editor).get(reverse("members:digest-preview"))
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["style-src-attr"] == ["'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    home = directives(client_for(open_world.editor).get("/")["Content-Security-Policy"])
    assert "style-src-attr" not in home


def test_htmx_fragments_and_error_pages_carry_the_policy_too(open_world):
    browser = client_for(open_world.editor)
    fragment = browser.get(reverse("search:suggest") + "?q=li", headers={"HX-Request": "true"})
    assert "script-src 'self'" in fragment["Content-Security-Policy"]
    missing = browser.get("/no-such-page/")
    assert missing.status_code == 404
    assert "script-src 'self'" in missing["Content-Security-Policy"]


def test_htmx_is_told_not_to_inject_its_indicator_style_element():
    # htmx adds an inline <style> for its request indicators unless told not to; style-src 'self' would block it.
    base = (TEMPLATES / "base.html").read_text()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in base


# --- The templates themselves ------------------------------------------------------------------------------------
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*?\sstyle\s*=", re.IGNORECASE | re.DOTALL)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
HX_ON = re.compile(r"\shx-on(:|-|=)", re.IGNORECASE)


def site_templates() -> list[Path]:
    found = [path for path in TEMPLATES.rglob("*.html") if EMAIL_TEMPLATES not in path.parents]
    assert len(found) > 50
    return sorted(found)


def offences(pattern: re.Pattern, keep=lambda match: True) -> list[str]:
    hits = []
    for path in site_templates():
        text = path.read_text()
        for match in pattern.finditer(text):
            if keep(match):
                line = text.count("\n", 0, match.start()) + 1
                hits.append(f"{path.relative_to(TEMPLATES)}:{line}")
    return hits


def test_no_template_has_an_inline_script():
    def inline(match: re.Match) -> bool:
        attributes = match.group(1)
        return not re.search(r"\ssrc\s*=", attributes) and not re.search(
            r"""\stype\s*=\s*["']application/json["']""", attributes
        )

    assert offences(SCRIPT_TAG, inline) == []


def test_no_template_has_an_event_handler_attribute_or_hx_on():
    assert offences(HANDLER_ATTRIBUTE) == []
    assert offences(HX_ON) == []


def test_no_template_has_a_style_attribute_or_element():
    assert offences(STYLE_ATTRIBUTE) == []
    assert offences(STYLE_ELEMENT) == []


def test_no_template_or_script_uses_a_javascript_url():
    assert offences(JAVASCRIPT_URL) == []
    static_js = Path(settings.BASE_DIR) / "static" / "js"
    assert [path.name for path in static_js.glob("*.js") if "javascript:" in path.read_text()] == []
