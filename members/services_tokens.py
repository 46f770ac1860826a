"""Personal access tokens for the REST API (issue 8): create, revoke, and look one up from a request.

A token is ``cop_`` followed by 43 URL-safe characters (32 random bytes). Only its SHA-256 hash is stored, with
the first characters (``prefix``) for display: whoever reads the database cannot use a token, and the member
sees the secret exactly once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import PersonalAccessToken, TokenScope

TOKEN_PREFIX = "cop_"
DISPLAY_PREFIX_LENGTH = 12  # "cop_" and eight characters of the secret
MAX_NAME = 100
MAX_TOKENS_PER_MEMBER = 50
# ``last_used_at`` is written at most this often per token, so reading through the API does not write every time.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class NewToken:
    token: PersonalAccessToken
    secret: str  # shown once, never stored


@transaction.atomic
def token_create(*, actor, name: str, scope: str = TokenScope.READ, expires_at: datetime | None = None) -> NewToken:
    """A new token for ``actor`` (a member creates tokens only for themselves)."""
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied
    name = " ".join((name or "").split())
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the token a name, such as the tool that will use it.")]
    elif len(name) > MAX_NAME:
        errors["name"] = [_("Keep the name under %d characters.") % MAX_NAME]
    if scope not in TokenScope.values:
        errors["scope"] = [_("Choose read only, or read and write.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("Choose an expiry date in the future, or none.")]
    if PersonalAccessToken.objects.filter(user=actor, revoked_at__isnull=True).count() >= MAX_TOKENS_PER_MEMBER:
        errors["name"] = [_("You have %d tokens already: revoke some first.") % MAX_TOKENS_PER_MEMBER]
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken.objects.create(
        user=actor,
        name=name,
        scope=scope,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        token_hash=token_hash(secret),
        expires_at=expires_at,
    )
    return NewToken(token=token, secret=secret)


@transaction.atomic
def token_revoke(*, actor, token: PersonalAccessToken) -> PersonalAccessToken:
    """Revoke one of the member's own tokens (at once: the next request with it is refused)."""
    if token.user_id != actor.pk:
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_for_secret(secret: str) -> PersonalAccessToken | None:
    """The token with this secret (whatever its state: callers tell revoked and expired apart), with its owner.

    One query; the hash is of a high-entropy secret, so an index lookup on it leaks nothing useful.
    """
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    return PersonalAccessToken.objects.select_related("user").filter(token_hash=token_hash(secret)).first()


def token_touch(token: PersonalAccessToken, now: datetime | None = None) -> None:
    """Note that the token was used (at most once a minute: a column update, nothing else changes)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
