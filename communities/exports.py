"""Exports of the communities app (issue 8, item 5).

- ``member_list_rows``: a community's member list as CSV rows, for its admins (``permissions.can_export_member_list``):
  profile fields and one column per introductory question with the member's answer. Every text cell is
  formula-safe.
- ``member_data``: this app's part of a member's own data export (``members.exports``): their community
  memberships, the guidelines they accepted, their answers to introductory questions and bans from communities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.utils.translation import gettext as _

from communities.models import Community, CommunityBan, CommunityMembership, IntroAnswer, Onboarding
from copapp.exports import JsonPart, Part, csv_cell, iso

BATCH = 500


def _utc(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def member_list_rows(community: Community) -> Iterator[list[str]]:
    """The member list as CSV rows: a header, then one row per member, in batches of ``BATCH`` members (three
    queries a batch: memberships with profiles, expertise, answers and onboarding dates)."""
    questions = list(community.intro_questions.order_by("position", "pk"))
    yield [
        _("Name"),
        _("Username"),
        _("E-mail"),
        _("Community role"),
        _("Focal point"),
        _("Member since (UTC)"),
        _("Guidelines accepted (UTC)"),
        _("Organisation"),
        _("Organisation type"),
        _("Country"),
        _("Job title"),
        _("Expertise"),
        _("Short bio"),
        _("Time zone"),
        *[csv_cell(question.text) for question in questions],
    ]
    memberships = (
        CommunityMembership.objects.filter(community=community, user__deleted_at__isnull=True)
        .select_related("user__profile")
        .prefetch_related("user__profile__expertise")
        .order_by("user__display_name", "user__username", "pk")
    )
    batch: list[CommunityMembership] = []
    for membership in memberships.iterator(chunk_size=BATCH):
        batch.append(membership)
        if len(batch) == BATCH:
            yield from _member_rows(community, questions, batch)
            batch = []
    if batch:
        yield from _member_rows(community, questions, batch)


def _member_rows(community: Community, questions, batch: list[CommunityMembership]) -> Iterator[list[str]]:
    user_ids = [m.user_id for m in batch]
    answers: dict[int, dict[int, str]] = defaultdict(dict)
    for user_id, question_id, text in IntroAnswer.objects.filter(
        question__community=community, user_id__in=user_ids
    ).values_list("user_id", "question_id", "text"):
        answers[user_id][question_id] = text
    accepted = dict(
        Onboarding.objects.filter(community=community, user_id__in=user_ids).values_list("user_id", "accepted_at")
    )
    yes, no = _("yes"), _("no")
    for membership in batch:
        user = membership.user
        profile = getattr(user, "profile", None)
        expertise = ", ".join(tag.name for tag in profile.expertise.all()) if profile else ""
        yield [
            csv_cell(user.public_name),
            csv_cell(user.username),
            csv_cell(user.email),
            str(membership.get_role_display()),
            str(yes if membership.is_focal_point else no),
            _utc(membership.joined_at),
            _utc(accepted.get(user.pk)),
            csv_cell(getattr(profile, "organisation", "")),
            str(profile.get_organisation_type_display()) if profile and profile.organisation_type else "",
            csv_cell(getattr(profile, "country", "")),
            csv_cell(getattr(profile, "job_title", "")),
            csv_cell(expertise),
            csv_cell(getattr(profile, "bio", "")),
            csv_cell(getattr(profile, "time_zone", "")),
            *[csv_cell(answers[user.pk].get(question.pk, "")) for question in questions],
        ]


# --- A member's own data ---------------------------------------------------------------------------------------
def _community(community: Community) -> dict:
    return {"id": community.pk, "slug": community.slug, "name": community.name}


def member_data(user) -> list[Part]:
    """The communities app's part of ``user``'s own data export."""

    def memberships():
        for m in CommunityMembership.objects.filter(user=user).select_related("community").order_by("pk"):
            yield {
                "community": _community(m.community),
                "role": m.role,
                "is_focal_point": m.is_focal_point,
                "joined_at": iso(m.joined_at),
            }

    def onboardings():
        for o in Onboarding.objects.filter(user=user).select_related("community").order_by("pk"):
            yield {
                "community": _community(o.community),
                "accepted_at": iso(o.accepted_at),
                "guidelines_accepted": o.guidelines_accepted,
            }

    def intro_answers():
        answers = IntroAnswer.objects.filter(user=user).select_related("question__community").order_by("pk")
        for a in answers:
            yield {
                "community": _community(a.question.community),
                "question": a.question.text,
                "answer": a.text,
                "answered_at": iso(a.answered_at),
            }

    def bans():
        for b in CommunityBan.objects.filter(user=user).select_related("community").order_by("pk"):
            yield {"community": _community(b.community), "reason": b.reason, "created_at": iso(b.created_at)}

    return [
        JsonPart("communities/memberships.json", memberships),
        JsonPart("communities/guidelines_accepted.json", onboardings),
        JsonPart("communities/introductory_answers.json", intro_answers),
        JsonPart("communities/bans.json", bans),
    ]
