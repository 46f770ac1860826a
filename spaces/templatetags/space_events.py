"""Template tags for events.

{% load space_events %}
{% event_papers event %}   accepted papers with their files, the "submit a paper" button (and the deadline), the
                           member's own submissions with their status and the organisers' message, a link to
                           the review page for reviewers, and the event's files with an upload form for organisers
"""

from __future__ import annotations

from django import template
from django.urls import reverse

from spaces import selectors_papers
from spaces.forms_papers import EventFileForm

register = template.Library()


def _paper_urls(paper, event_kwargs: dict) -> None:
    kwargs = {**event_kwargs, "paper_id": paper.pk}
    paper.url = reverse("spaces:paper-detail", kwargs=kwargs)
    paper.download_url = (
        reverse("spaces:paper-download", kwargs={**kwargs, "filename": paper.file_name}) if paper.file else ""
    )


@register.inclusion_tag("spaces/partials/event_papers.html", takes_context=True)
def event_papers(context, event) -> dict:
    """Papers and files of ``event`` as the requesting member may see them (the event must be visible to them).

    A fixed number of queries however many papers and files there are (see ``event_papers_context``).
    """
    request = context.get("request")
    user = request.user if request is not None else context.get("user")
    data = selectors_papers.event_papers_context(event, user)
    space = event.space
    event_kwargs = {"community_slug": space.community.slug, "space_slug": space.slug, "event_slug": event.slug}
    for paper in [*data["accepted_papers"], *data["my_papers"]]:
        _paper_urls(paper, event_kwargs)
    data.update(
        submit_url=reverse("spaces:paper-submit", kwargs=event_kwargs),
        review_url=reverse("spaces:paper-review", kwargs=event_kwargs),
        upload_url=reverse("spaces:event-file-upload", kwargs=event_kwargs),
        settings_url=reverse("spaces:paper-settings", kwargs=event_kwargs),
        file_form=EventFileForm(auto_id="event_file_%s") if data["can_attach_files"] else None,
        request=request,
        user=user,
        csrf_token=context.get("csrf_token"),
    )
    return data
