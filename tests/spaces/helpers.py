"""Small helpers shared by the spaces, members and communities tests."""

import io

from django.contrib.messages import get_messages
from django.test import Client
from PIL import Image


def messages_of(response) -> list[str]:
    """The flash messages the request behind ``response`` queued for the user, as plain text."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def form_errors(response, name: str = "form") -> dict[str, list[str]]:
    """The errors of the form rendered in ``response`` (``__all__`` holds the non-field errors)."""
    form = response.context[name]
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


def client_for(user) -> Client:
    """A separate browser signed in as ``user``."""
    browser = Client()
    browser.force_login(user)
    return browser


def htmx(browser: Client, method: str, url: str, data=None):
    return getattr(browser, method)(url, data or {}, headers={"HX-Request": "true"})


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "teal") -> bytes:
    """A real, small PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def template_names(response) -> list[str]:
    return [t.name for t in response.templates if t.name]


def space_url(name: str, space, **kwargs) -> str:
    """``spaces:<name>`` for ``space``, e.g. space_url("members", space)."""
    from django.urls import reverse

    return reverse(
        f"spaces:{name}", kwargs={"community_slug": space.community.slug, "space_slug": space.slug, **kwargs}
    )
