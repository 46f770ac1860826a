"""``members.middleware.ResolvedUserMiddleware``: views and templates get the member object itself, not Django's
lazy proxy for it, and who is signed in is exactly as before (signing in and out, an account switched off)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_a_signed_in_members_request_carries_the_member_itself():
    member = make_user("resolved")
    client = Client()
    client.force_login(member)
    response = client.get(reverse("members:notifications"))
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert type(user) is get_user_model()
    assert user.pk == member.pk
    assert response.context["user"] is user  # templates read the same object


def test_a_visitor_is_anonymous_and_signing_out_makes_the_member_one():
    member = make_user("leaving")
    client = Client()
    assert type(client.get(reverse("home")).wsgi_request.user) is AnonymousUser
    client.force_login(member)
    assert client.get(reverse("home")).wsgi_request.user.pk == member.pk
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert client.get(reverse("members:notifications")).status_code == 302  # to the sign-in page
    assert type(client.get(reverse("home")).wsgi_request.user) is AnonymousUser


def test_a_switched_off_account_is_signed_out_on_its_next_request():
    member = make_user("switched-off")
    client = Client()
    client.force_login(member)
    get_user_model().objects.filter(pk=member.pk).update(is_active=False)
    response = client.get(reverse("members:notifications"))
    assert response.status_code == 302
    assert type(response.wsgi_request.user) is AnonymousUser
