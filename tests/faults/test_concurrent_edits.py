"""Two editors saving the same version of a page at the same instant, 200 times over, on PostgreSQL: every trial
ends with exactly one saved version and one conflict whose text is kept as the loser's draft, and the page's
history holds exactly one row per successful save (issue 10, item 6). Nothing typed is ever lost.

Each editor is a thread of its own with its own database connection; a barrier releases both saves together, so
the two ``SELECT ... FOR UPDATE`` statements really race. One page is reused: each trial starts from the version
the previous one left. Skipped on the embedded default (SQLite has no row locks to race for).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from spaces import services
from spaces.models import Page, PageDraft, SpaceRole, Visibility
from tests.factories import add_member, make_community, make_space, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

User = get_user_model()
TRIALS = 200
WAIT_SECONDS = 30


@dataclass
class Outcome:
    """What one editor's save came to in one trial."""

    user_pk: int
    text: str
    result: str = ""  # "saved" or "conflict"
    conflict_version: int | None = None  # the version the conflict screen would show
    error: BaseException | None = field(default=None, repr=False)


class Editor(threading.Thread):
    """One editor in a thread of its own (so a connection of its own): waits at the barrier, saves from the version
    the trial started at, waits for the others, and again for the next trial."""

    def __init__(self, user_pk: int, name: str, page_pk: int, start: threading.Barrier, done: threading.Barrier):
        super().__init__(name=name, daemon=True)
        self.user_pk, self.page_pk, self.start_line, self.done_line = user_pk, page_pk, start, done
        self.outcomes: list[Outcome] = []

    def run(self) -> None:
        try:
            actor = User.objects.get(pk=self.user_pk)
            for trial in range(TRIALS):
                mine = Page.objects.get(pk=self.page_pk)  # what this editor's edit form was opened on
                outcome = Outcome(self.user_pk, f"Trial {trial}: the wording {self.name} proposes.")
                self.start_line.wait(timeout=WAIT_SECONDS)
                try:
                    services.page_update(
                        actor=actor, page=mine, title=mine.title, body=outcome.text, base_version=mine.version
                    )
                    outcome.result = "saved"
                except services.EditConflict as conflict:
                    outcome.result, outcome.conflict_version = "conflict", conflict.page.version
                except BaseException as exc:  # reported by the test, never swallowed
                    outcome.error = exc
                self.outcomes.append(outcome)
                self.done_line.wait(timeout=WAIT_SECONDS)
        except threading.BrokenBarrierError:
            pass  # the test thread gave up (and says why)
        finally:
            connection.close()


def test_two_hundred_trials_of_two_editors_saving_the_same_version_lose_nothing():
    staff = make_user("staff", staff=True)
    space = make_space(staff, make_community(staff, slug="race"), Visibility.OPEN, slug="race-space")
    alice, bob = make_user("alice"), make_user("bob")
    for editor in (alice, bob):
        add_member(space, editor, SpaceRole.EDITOR, by=staff)
    page = services.page_create(actor=alice, space=space, title="Shared notes", body="Start.")
    start, done = threading.Barrier(3), threading.Barrier(3)
    editors = [Editor(alice.pk, "Alice", page.pk, start, done), Editor(bob.pk, "Bob", page.pk, start, done)]
    for editor in editors:
        editor.start()
    winners: list[tuple[int, str, int]] = []  # (version, text, history user) of every successful save
    try:
        for trial in range(TRIALS):
            base = 1 + trial
            start.wait(timeout=WAIT_SECONDS)
            done.wait(timeout=WAIT_SECONDS)
            alice_says, bob_says = (editor.outcomes[trial] for editor in editors)
            assert alice_says.error is None and bob_says.error is None, (trial, alice_says.error, bob_says.error)
            results = sorted([alice_says.result, bob_says.result])
            assert results == ["conflict", "saved"], f"trial {trial}: {results}"
            won, lost = (alice_says, bob_says) if alice_says.result == "saved" else (bob_says, alice_says)
            winners.append((base + 1, won.text, won.user_pk))

            page.refresh_from_db()
            assert (page.version, page.body, page.last_edited_by_id) == (base + 1, won.text, won.user_pk), trial
            assert lost.conflict_version == base + 1, "the conflict screen shows the version that won"
            assert list(PageDraft.objects.filter(page=page).values_list("user", "body", "base_version")) == [
                (lost.user_pk, lost.text, base)
            ], f"trial {trial}: the loser's text is their draft, and the winner has none left"
            assert page.versions.count() == 1 + len(winners), f"trial {trial}: one history row per save"
    finally:
        start.abort()
        done.abort()
        for editor in editors:
            editor.join(timeout=WAIT_SECONDS)

    history = list(page.versions.order_by("history_id").values_list("version", "body", "history_user"))
    assert history == [(1, "Start.", alice.pk), *winners]
    assert len(winners) == TRIALS
    split = {user: sum(1 for _v, _t, u in winners if u == user) for user in (alice.pk, bob.pk)}
    assert all(split.values()), f"both editors won some races: {split}"
