"""URL patterns for polls and the work plan (issue 4, items 6 and 7); included by spaces/urls.py."""

from django.urls import path

from spaces.views import polls, workplan

SPACE = "c/<slug:community_slug>/s/<slug:space_slug>/"
POLL = SPACE + "polls/<int:poll_id>/"
MILESTONE = SPACE + "work-plan/milestones/<int:milestone_id>/"

urlpatterns: list = [
    path(SPACE + "polls/", polls.poll_list, name="polls"),
    path(SPACE + "polls/new/", polls.poll_create, name="poll-create"),
    path(POLL, polls.poll_detail, name="poll-detail"),
    path(POLL + "vote/", polls.poll_vote, name="poll-vote"),
    path(POLL + "close/", polls.poll_close, name="poll-close"),
    path(SPACE + "work-plan/", workplan.work_plan, name="work-plan"),
    path(SPACE + "work-plan/edit/", workplan.work_plan_edit, name="work-plan-edit"),
    path(SPACE + "work-plan/milestones/new/", workplan.milestone_create, name="milestone-create"),
    path(MILESTONE + "edit/", workplan.milestone_edit, name="milestone-edit"),
    path(MILESTONE + "delete/", workplan.milestone_delete, name="milestone-delete"),
    path(MILESTONE + "status/", workplan.milestone_status, name="milestone-status"),
]
