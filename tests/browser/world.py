"""The data the browser journeys start from, built through the services on the live server's fresh database.

Run inside the server's settings (``manage.py shell -c "from tests.browser.world import build; build()"``) with
``BROWSER_SIZES`` naming the viewport sizes ("desktop,mobile"). Every journey changes what it touches (a join,
a request, a flag), so each size gets people and content of its own: running a journey at one size never
spoils it for the other. Prints one line, ``BROWSER-WORLD {json}``, with the e-mails, slugs and paths the
tests use.
"""

import json
import os
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone

from communities import services as community_services
from spaces import services as space_services
from spaces.models import SpaceRole, Visibility
from spaces.services import events as event_services
from spaces.services import posts as post_services
from tests.factories import add_member, make_community, make_space, make_user, onboard

PASSWORD = "browser-pass-2026"
COMMUNITY_QUESTION = "What do you want to get out of this community?"


def build() -> None:
    sizes = [size for size in os.environ.get("BROWSER_SIZES", "desktop,mobile").split(",") if size]
    password = make_password(PASSWORD)  # hashed once: the server's real hasher is slow on purpose
    people = []

    def person(name: str, **kwargs):
        user = make_user(name, **kwargs)
        people.append(user)
        return user

    staff = person("staff", staff=True)
    community = make_community(staff, slug="browser-community", questions=[COMMUNITY_QUESTION])
    space_admin = person("spaceadmin")
    moderator = person("moderator")
    author = person("author")
    analyst = person("analyst")
    analyst.user_permissions.add(Permission.objects.get(content_type__app_label="members", codename="view_analytics"))
    community_services.community_role_set(actor=staff, community=community, user=space_admin, role="admin")
    onboard(space_admin, community)

    open_space = make_space(space_admin, community, Visibility.OPEN, slug="open-forum")
    private_space = make_space(space_admin, community, Visibility.PRIVATE, slug="private-group")
    add_member(open_space, moderator, SpaceRole.MODERATOR, by=space_admin)
    add_member(open_space, author, SpaceRole.EDITOR, by=space_admin)
    space_services.page_create(
        actor=space_admin,
        space=open_space,
        title="Welcome to the forum",
        body="Start here: how this space works.\n\n- Ask questions\n- Share drafts",
    )

    question = space_services.question_ask(
        actor=author, space=open_space, title="How do you measure linkage quality?", body="False matches worry us."
    )
    space_services.answer_post(actor=moderator, question=question, body="Review a **clerical sample** by hand.")
    page = open_space.pages.get(slug="welcome-to-the-forum")

    world = {
        "password": PASSWORD,
        "community": community.slug,
        "open_space": open_space.slug,
        "private_space": private_space.slug,
        "open_space_path": open_space.get_absolute_url(),
        "private_space_path": private_space.get_absolute_url(),
        "community_path": community.get_absolute_url(),
        "space_admin": space_admin.email,
        "moderator": moderator.email,
        "author": author.email,
        "analyst": analyst.email,
        "staff": staff.email,
        "question": COMMUNITY_QUESTION,
        "question_path": question.get_absolute_url(),
        "page_path": page.get_absolute_url(),
        "sizes": {},
    }
    start = (timezone.now() + timedelta(days=21)).replace(hour=9, minute=0, second=0, microsecond=0)
    for size in sizes:
        newcomer = person(f"newcomer-{size}")
        joiner = person(f"joiner-{size}")
        onboard(joiner, community)
        requester = person(f"requester-{size}")
        onboard(requester, community)
        editor = person(f"editor-{size}")
        editor2 = person(f"coeditor-{size}")
        asker = person(f"asker-{size}")
        answerer = person(f"answerer-{size}")
        attendee = person(f"attendee-{size}")
        flagger = person(f"flagger-{size}")
        for user in (editor, editor2, asker, answerer, attendee, flagger):
            add_member(open_space, user, SpaceRole.EDITOR, by=space_admin)

        history_page = space_services.page_create(
            actor=editor, space=open_space, title=f"Linkage glossary {size}", body="Blocking: the first version."
        )
        space_services.page_update(
            actor=editor,
            page=history_page,
            title=history_page.title,
            body="Blocking: a second version that went wrong.",
            base_version=history_page.version,
            summary="Rewrote the definition",
        )
        shared_page = space_services.page_create(
            actor=editor, space=open_space, title=f"Meeting notes {size}", body="Agenda\n\n1. Welcome"
        )
        event = event_services.event_create(
            actor=space_admin,
            space=open_space,
            title=f"Linkage clinic {size}",
            starts_at=start.replace(tzinfo=None),
            ends_at=(start + timedelta(hours=2)).replace(tzinfo=None),
            time_zone="Asia/Bangkok",
            description="An hour of questions on record linkage.",
            online_url="https://meet.example.org/linkage-clinic",
        )
        post = post_services.post_create(
            actor=author, space=open_space, body=f"Buy cheap watches now, {size} edition! Visit our shop."
        )
        world["sizes"][size] = {
            "newcomer": newcomer.email,
            "joiner": joiner.email,
            "requester": requester.email,
            "editor": editor.email,
            "editor2": editor2.email,
            "asker": asker.email,
            "answerer": answerer.email,
            "attendee": attendee.email,
            "flagger": flagger.email,
            "history_page_path": history_page.get_absolute_url(),
            "history_page_title": history_page.title,
            "shared_page_path": shared_page.get_absolute_url(),
            "event_path": event.get_absolute_url(),
            "event_title": event.title,
            "post_path": post.get_absolute_url(),
            "post_marker": f"{size} edition",
        }
    type(staff).objects.filter(pk__in=[user.pk for user in people]).update(password=password)
    call_command("rollup_analytics", verbosity=0)
    print("BROWSER-WORLD " + json.dumps(world))
