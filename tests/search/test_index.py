"""The search text follows every write: each kind of content is found by its own words, an edit replaces the old
words at once, and ``manage.py search_reindex`` rebuilds everything (twice gives the same result)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from spaces import services
from spaces.models import Item, Visibility
from spaces.search_index import ensure_sqlite_triggers, search_index_rebuild
from spaces.services import events as event_services
from spaces.services import posts as post_services
from tests.search.helpers import event, exact_titles, page, poll, post, question, titles, total


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


def test_every_kind_of_content_is_found_by_its_own_words(w, django_capture_on_commit_callbacks):
    q = question(w.space, w.editor, "Which classification?", "We use ISIC revision four.", tags="nace, industry")
    services.answer_post(actor=w.moderator, question=q, body="Map it to NACE with the *correspondence* table.")
    services.comment_create(actor=w.admin, target=q.item, body="Thanks, that **helped** a lot.")
    event(
        w.space,
        w.moderator,
        "Annual meeting",
        "Plenary on _dissemination_.",
        venue="Kigali Convention Centre",
        online_url="https://meet.example.org/secretroom",
    )
    post(w.space, w.editor, "Short note\n\nThe release calendar slipped.")
    with django_capture_on_commit_callbacks(execute=True):  # the options are stored after the poll row
        poll(w.space, w.moderator, "Next workshop?", ["Nairobi", "Montevideo"], description="Pick a city.")

    assert titles(w.viewer, "revision") == ["Which classification?"]
    assert titles(w.viewer, "industry") == ["Which classification?"]  # tags
    assert titles(w.viewer, "correspondence") == ["Answer to “Which classification?”"]
    assert titles(w.viewer, "helped") == ["Comment on “Which classification?”"]
    assert titles(w.viewer, "dissemination") == ["Annual meeting"]
    assert titles(w.viewer, "kigali") == ["Annual meeting"]  # the venue, shown on the event to everyone
    assert exact_titles(w.viewer, "secretroom") == []  # the meeting link is for registered people only
    assert titles(w.viewer, "calendar slipped") == ["Short note"]
    assert titles(w.viewer, "montevideo") == ["Next workshop?"]


def test_edits_replace_the_old_words(w):
    p = page(w.space, w.editor, "Budget", "The oldword figures.")
    services.page_update(actor=w.editor, page=p, title="Budget 2025", body="The newword figures.", base_version=1)
    note = post(w.space, w.editor, "Draft note with beforeword.")
    post_services.post_edit(actor=w.editor, post=note, body="Final note with afterword.")
    meeting = event(w.space, w.moderator, "Retreat", "At the lake.")
    event_services.event_edit(actor=w.moderator, event=meeting, description="In the mountains.")

    assert total(w.viewer, "oldword") == 0 and titles(w.viewer, "newword") == ["Budget 2025"]
    assert total(w.viewer, "beforeword") == 0 and titles(w.viewer, "afterword") == ["Final note with afterword."]
    assert total(w.viewer, "lake") == 0 and titles(w.viewer, "mountains") == ["Retreat"]


def test_reindex_command_rebuilds_lost_text_and_is_idempotent(w):
    page(w.space, w.editor, "Methods", "Imputation by donor.")
    question(w.space, w.editor, "Weights?", "Calibration of survey weights.")
    Item.objects.update(search_text="")  # as if the text had never been written (data from before this feature)
    lost = total(w.viewer, "imputation") + total(w.viewer, "calibration")

    out = StringIO()
    call_command("search_reindex", stdout=out)
    first = {i.pk: i.search_text for i in Item.objects.only("search_text")}
    call_command("search_reindex", stdout=StringIO())
    second = {i.pk: i.search_text for i in Item.objects.only("search_text")}

    assert lost == 0
    assert titles(w.viewer, "imputation") == ["Methods"] and titles(w.viewer, "calibration") == ["Weights?"]
    assert first == second
    assert "Reindexed" in out.getvalue()


def test_the_index_is_rebuilt_when_the_database_lost_it(w):
    page(w.space, w.editor, "Registers", "Business register coverage.")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("UPDATE spaces_item SET search_vector = NULL")
        else:  # what a later migration that rebuilds spaces_item does on SQLite: the triggers go
            cursor.execute("DROP TRIGGER spaces_item_fts_insert")
    assert connection.vendor == "postgresql" or ensure_sqlite_triggers()  # restored (run after every migrate)
    search_index_rebuild()
    page(w.space, w.editor, "Frames", "Sampling frame coverage.")  # written after: the triggers work again

    assert set(titles(w.viewer, "coverage")) == {"Registers", "Frames"}
