"""The interface language (issue 8, item 4).

Visitors get Django's choice: the language cookie, else the browser's Accept-Language, else ``LANGUAGE_CODE``
(``LocaleMiddleware``). A signed-in member gets the language stored on their profile, on every device: it wins
over the cookie and the browser, and the cookie is brought in line so the device keeps it after they sign out.
Choosing a language in the switcher (a form posting to Django's ``set_language`` view) also stores it on the
profile; a visitor who signs up keeps the language they signed up in.
"""

from __future__ import annotations

from allauth.account.signals import user_signed_up
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from members.middleware import TZ_SESSION_KEY

LANGUAGE_SESSION_KEY = "member_language"


def is_supported(code: str | None) -> bool:
    """Whether ``code`` is one of the site's languages (``settings.LANGUAGES``)."""
    return bool(code) and code in dict(settings.LANGUAGES)


def language_of(user) -> str:
    """The language to write to ``user`` in (e-mails, texts stored for them): their choice, else the default."""
    if user is None or not getattr(user, "pk", None):
        return settings.LANGUAGE_CODE
    from members.models import Profile

    try:
        code = user.profile.preferred_language
    except Profile.DoesNotExist:
        code = None
    return code if is_supported(code) else settings.LANGUAGE_CODE


def language_for_email(email: str, fallback: str | None = None) -> str:
    """The language of the account that owns ``email``, else ``fallback`` (e.g. the inviter's), else the default."""
    from members.models import Profile

    code = (
        Profile.objects.filter(user__email__iexact=email, user__is_active=True)
        .values_list("preferred_language", flat=True)
        .first()
    )
    if is_supported(code):
        return code
    return fallback if is_supported(fallback) else settings.LANGUAGE_CODE


def _stored_preferences(request: HttpRequest) -> str:
    """The member's language from the session, else from the profile (one query, which also fills the time
    zone the next middleware would otherwise read with a query of its own)."""
    language = request.session.get(LANGUAGE_SESSION_KEY)
    if is_supported(language):
        return language
    from members.models import Profile

    row = Profile.objects.filter(user=request.user).values_list("preferred_language", "time_zone").first()
    language, tzname = row if row else (settings.LANGUAGE_CODE, "UTC")
    if not is_supported(language):
        language = settings.LANGUAGE_CODE
    request.session[LANGUAGE_SESSION_KEY] = language
    request.session.setdefault(TZ_SESSION_KEY, tzname or "UTC")
    return language


def _language_chosen(request: HttpRequest, response: HttpResponse) -> str | None:
    """The language a member just chose in the switcher (a successful POST to ``set_language``), if any."""
    match = request.resolver_match
    if request.method != "POST" or match is None or match.view_name != "set_language":
        return None
    if response.status_code not in (204, 302):
        return None
    code = request.POST.get("language")
    return code if is_supported(code) else None


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """The same cookie Django's ``set_language`` view sets."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class MemberLanguageMiddleware:
    """After ``LocaleMiddleware`` and authentication: a signed-in member's stored language wins; choosing one in
    the switcher stores it. Placed before ``MemberTimezoneMiddleware``, with which it shares one profile query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = None
        if request.user.is_authenticated:
            language = _stored_preferences(request)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language is None or not request.user.is_authenticated:
            return response
        chosen = _language_chosen(request, response)
        if chosen is not None:
            from members import services

            services.profile_language_set(actor=request.user, user=request.user, language=chosen)
            request.session[LANGUAGE_SESSION_KEY] = chosen
            return response  # the view has set the cookie
        if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            set_language_cookie(response, language)
        return response


@receiver(user_logged_in, dispatch_uid="members.language_on_login")
def forget_session_language_on_login(sender, request: HttpRequest | None = None, user=None, **kwargs) -> None:
    """Signing in reads the language afresh from the profile, so the member's choice wins on a new device."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(LANGUAGE_SESSION_KEY, None)


@receiver(user_signed_up, dispatch_uid="members.language_on_signup")
def keep_signup_language(sender, request: HttpRequest | None = None, user=None, **kwargs) -> None:
    """A visitor who signs up in French (cookie or browser) keeps French as their stored choice."""
    if request is None or user is None:
        return
    language = getattr(request, "LANGUAGE_CODE", None) or translation.get_language()
    if is_supported(language) and language != language_of(user):
        from members import services

        services.profile_language_set(actor=user, user=user, language=language)
    if hasattr(request, "session"):
        request.session.pop(LANGUAGE_SESSION_KEY, None)


def language_of_id(user_id: int | None) -> str:
    """``language_of`` for a member known by id (one query)."""
    from members.models import Profile

    code = Profile.objects.filter(user_id=user_id).values_list("preferred_language", flat=True).first()
    return code if is_supported(code) else settings.LANGUAGE_CODE
