"""Render and send one e-mail from templates/emails/<name>_subject.txt, _body.txt and _body.html."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def send_templated_email(
    name: str, to: list[str], context: dict, headers: dict | None = None, language: str | None = None
) -> None:
    """``language``: the recipient's (``members.language.language_of``); else the active language."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    with translation.override(language or translation.get_language()):
        subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
        text = render_to_string(f"emails/{name}_body.txt", context)
        html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to, headers=headers or {})
    message.attach_alternative(html, "text/html")
    message.send()
