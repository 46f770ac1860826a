from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.utils.translation import gettext_lazy as _


class AccountAdapter(DefaultAccountAdapter):
    # Brute-force protection is allauth's "login_failed" rate limit (ACCOUNT_RATE_LIMITS); this is what a locked
    # out member reads on the sign-in page.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts. For your security, signing in to this account is paused for a few "
            "minutes. Please try again later, or reset your password."
        ),
    }

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render now (the context holds live objects), send from a Celery task after the transaction commits."""
        from members.tasks import send_account_email_task

        message = self.render_mail(template_prefix, email, context)
        html = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        body = message.body if message.content_subtype != "html" else ""
        if message.content_subtype == "html":
            html = message.body
        args = (message.subject, body, html, list(message.to), dict(message.extra_headers))
        transaction.on_commit(lambda: send_account_email_task.delay(*args))

    def get_login_redirect_url(self, request):
        """Someone who arrived through an invitation link goes straight back to it after sign-up or login."""
        token = request.session.get("invitation_token")
        if token:
            from django.urls import reverse

            return reverse("spaces:invitation", kwargs={"token": token})
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        return self.get_login_redirect_url(request)
