"""Per-request member settings: their time zone, and the rule that site staff use two-factor authentication."""

import zoneinfo

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

TZ_SESSION_KEY = "member_tz"
MFA_SESSION_KEY = "staff_mfa_ok"


class MemberTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tzname = None
        if request.user.is_authenticated:
            tzname = request.session.get(TZ_SESSION_KEY)
            if tzname is None:
                from members.models import Profile

                tzname = Profile.objects.filter(user=request.user).values_list("time_zone", flat=True).first() or "UTC"
                request.session[TZ_SESSION_KEY] = tzname
        try:
            timezone.activate(zoneinfo.ZoneInfo(tzname)) if tzname else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)


class StaffMFAMiddleware:
    """Site staff must enrol an authenticator app before using the site (STAFF_MFA_REQUIRED)."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/media/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            settings.STAFF_MFA_REQUIRED
            and user.is_authenticated
            and user.is_staff
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and not request.session.get(MFA_SESSION_KEY)
        ):
            from allauth.mfa.utils import is_mfa_enabled

            if not is_mfa_enabled(user):
                return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
            request.session[MFA_SESSION_KEY] = True
        return self.get_response(request)
