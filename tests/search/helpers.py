"""Helpers shared by the search tests: content built through the services, results read as a user sees them."""

import html
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.html import strip_tags

from spaces import selectors_search, services
from spaces.services import events as event_services
from spaces.services import polls as poll_services
from spaces.services import posts as post_services


def page(space, actor, title: str, body: str = ""):
    return services.page_create(actor=actor, space=space, title=title, body=body)


def question(space, actor, title: str, body: str = "", tags: str = ""):
    return services.question_ask(actor=actor, space=space, title=title, body=body, tags=tags)


def post(space, actor, body: str, **kwargs):
    return post_services.post_create(actor=actor, space=space, body=body, **kwargs)


def event(space, actor, title: str, description: str = "", **kwargs):
    starts = timezone.now() + timedelta(days=10)
    return event_services.event_create(
        actor=actor,
        space=space,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        time_zone="UTC",
        description=description,
        **kwargs,
    )


def poll(space, actor, question_text: str, options: list[str], description: str = ""):
    return poll_services.poll_create(
        actor=actor, space=space, question=question_text, options=options, description=description
    )


def text_of(fragment) -> str:
    """What a reader sees of a highlighted fragment: tags removed, entities decoded."""
    return html.unescape(strip_tags(str(fragment)))


def titles(user, query: str, **filters) -> list[str]:
    return [text_of(r.title) for r in selectors_search.search(user, query, **filters).results]


def exact_titles(user, query: str, **filters) -> list[str]:
    """Titles that match the query itself (on PostgreSQL a query that matches nothing is corrected, or offers
    similar titles)."""
    found = selectors_search.search(user, query, **filters)
    return [] if found.similar_titles or found.corrected else [text_of(r.title) for r in found.results]


def total(user, query: str, **filters) -> int:
    return selectors_search.search(user, query, **filters).total


def suggestion_titles(user, query: str) -> list[str]:
    return [s.title for s in selectors_search.title_suggestions(user, query)]


def day(year: int, month: int, dd: int) -> datetime:
    return timezone.make_aware(datetime(year, month, dd, 12, 0))
