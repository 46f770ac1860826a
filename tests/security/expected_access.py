"""The expected-access table of issue 10: who may see which content, where it lives, written out by hand.

This is literal data, never computed from the code under test (``spaces/permissions.py``). It is read from the
product rules: ARCHITECTURE.md "Roles, settled" and docs/permissions.md. If the code and this table disagree, the
surface matrix (``test_surface_matrix.py``) fails, and the disagreement is either a leak to fix in the code or a
rule change to make here first, on purpose.

Persons (each holds the same relation to every space of the test community; ``content_world.py`` builds them):
  anonymous            not signed in
  outsider             signed in, has accepted the community's guidelines, no role in the space
  requester            an outsider with a pending join request on the private space
  viewer               viewer of the space; named on every restricted page
  restricted_out       viewer of the space who is NOT named on the restricted pages
  editor               editor of the space (did not write the content)
  author               editor of the space who wrote every item below
  moderator            moderator of the space
  admin                admin of the space
  community_moderator  moderator of the community (so moderator of each of its spaces, closed ones included)
  community_admin      admin of the community (so admin of each of its spaces)
  staff                site staff (acts as admin everywhere)
  banned               was an editor, then was banned from the space
  removed              was a viewer, then was removed from the space by its admin

Columns (where the content is):
  open        a plain item in an open space
  private     a plain item in a private space (anyone may see that the space exists, only role holders its content)
  closed      a plain item in a closed space (the space does not exist for people without a role there)
  restricted  a page in an open space restricted to named people (author, named people, space and community
              admins, staff; not moderators), with what lives on it: a comment, an attached file, and a course
              lesson made of a restricted page. Other kinds cannot be restricted: "n/a".
  hidden      an item of each kind hidden by a moderator, in an open space (an answer on a visible question, a
              comment on a visible page, a lesson whose page is hidden). Hidden content is seen by its author and
              the space's moderators and admins (community moderators/admins, staff), nobody else (docs of
              ``spaces/permissions.py``, issue 5: "hiding takes content off every surface at once").

Words: "yes" the person may see it; "no" they may not (anywhere, by any surface); "n/a" no such content.
"""

from __future__ import annotations

PERSONS = [
    "anonymous",
    "outsider",
    "requester",
    "viewer",
    "restricted_out",
    "editor",
    "author",
    "moderator",
    "admin",
    "community_moderator",
    "community_admin",
    "staff",
    "banned",
    "removed",
]
COLUMNS = ["open", "private", "closed", "restricted", "hidden"]
KINDS = ["page", "question", "answer", "event", "post", "poll", "comment", "file", "lesson"]

# fmt: off
SEE_TABLES = {
    "open": """
        person               page question answer event post poll comment file lesson
        anonymous            yes  yes      yes    yes   yes  yes  yes     yes  yes
        outsider             yes  yes      yes    yes   yes  yes  yes     yes  yes
        requester            yes  yes      yes    yes   yes  yes  yes     yes  yes
        viewer               yes  yes      yes    yes   yes  yes  yes     yes  yes
        restricted_out       yes  yes      yes    yes   yes  yes  yes     yes  yes
        editor               yes  yes      yes    yes   yes  yes  yes     yes  yes
        author               yes  yes      yes    yes   yes  yes  yes     yes  yes
        moderator            yes  yes      yes    yes   yes  yes  yes     yes  yes
        admin                yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_moderator  yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_admin      yes  yes      yes    yes   yes  yes  yes     yes  yes
        staff                yes  yes      yes    yes   yes  yes  yes     yes  yes
        banned               yes  yes      yes    yes   yes  yes  yes     yes  yes
        removed              yes  yes      yes    yes   yes  yes  yes     yes  yes
    """,
    "private": """
        person               page question answer event post poll comment file lesson
        anonymous            no   no       no     no    no   no   no      no   no
        outsider             no   no       no     no    no   no   no      no   no
        requester            no   no       no     no    no   no   no      no   no
        viewer               yes  yes      yes    yes   yes  yes  yes     yes  yes
        restricted_out       yes  yes      yes    yes   yes  yes  yes     yes  yes
        editor               yes  yes      yes    yes   yes  yes  yes     yes  yes
        author               yes  yes      yes    yes   yes  yes  yes     yes  yes
        moderator            yes  yes      yes    yes   yes  yes  yes     yes  yes
        admin                yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_moderator  yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_admin      yes  yes      yes    yes   yes  yes  yes     yes  yes
        staff                yes  yes      yes    yes   yes  yes  yes     yes  yes
        banned               no   no       no     no    no   no   no      no   no
        removed              no   no       no     no    no   no   no      no   no
    """,
    "closed": """
        person               page question answer event post poll comment file lesson
        anonymous            no   no       no     no    no   no   no      no   no
        outsider             no   no       no     no    no   no   no      no   no
        requester            no   no       no     no    no   no   no      no   no
        viewer               yes  yes      yes    yes   yes  yes  yes     yes  yes
        restricted_out       yes  yes      yes    yes   yes  yes  yes     yes  yes
        editor               yes  yes      yes    yes   yes  yes  yes     yes  yes
        author               yes  yes      yes    yes   yes  yes  yes     yes  yes
        moderator            yes  yes      yes    yes   yes  yes  yes     yes  yes
        admin                yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_moderator  yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_admin      yes  yes      yes    yes   yes  yes  yes     yes  yes
        staff                yes  yes      yes    yes   yes  yes  yes     yes  yes
        banned               no   no       no     no    no   no   no      no   no
        removed              no   no       no     no    no   no   no      no   no
    """,
    "restricted": """
        person               page question answer event post poll comment file lesson
        anonymous            no   n/a      n/a    n/a   n/a  n/a  no      no   no
        outsider             no   n/a      n/a    n/a   n/a  n/a  no      no   no
        requester            no   n/a      n/a    n/a   n/a  n/a  no      no   no
        viewer               yes  n/a      n/a    n/a   n/a  n/a  yes     yes  yes
        restricted_out       no   n/a      n/a    n/a   n/a  n/a  no      no   no
        editor               no   n/a      n/a    n/a   n/a  n/a  no      no   no
        author               yes  n/a      n/a    n/a   n/a  n/a  yes     yes  yes
        moderator            no   n/a      n/a    n/a   n/a  n/a  no      no   no
        admin                yes  n/a      n/a    n/a   n/a  n/a  yes     yes  yes
        community_moderator  no   n/a      n/a    n/a   n/a  n/a  no      no   no
        community_admin      yes  n/a      n/a    n/a   n/a  n/a  yes     yes  yes
        staff                yes  n/a      n/a    n/a   n/a  n/a  yes     yes  yes
        banned               no   n/a      n/a    n/a   n/a  n/a  no      no   no
        removed              no   n/a      n/a    n/a   n/a  n/a  no      no   no
    """,
    "hidden": """
        person               page question answer event post poll comment file lesson
        anonymous            no   no       no     no    no   no   no      no   no
        outsider             no   no       no     no    no   no   no      no   no
        requester            no   no       no     no    no   no   no      no   no
        viewer               no   no       no     no    no   no   no      no   no
        restricted_out       no   no       no     no    no   no   no      no   no
        editor               no   no       no     no    no   no   no      no   no
        author               yes  yes      yes    yes   yes  yes  yes     yes  yes
        moderator            yes  yes      yes    yes   yes  yes  yes     yes  yes
        admin                yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_moderator  yes  yes      yes    yes   yes  yes  yes     yes  yes
        community_admin      yes  yes      yes    yes   yes  yes  yes     yes  yes
        staff                yes  yes      yes    yes   yes  yes  yes     yes  yes
        banned               no   no       no     no    no   no   no      no   no
        removed              no   no       no     no    no   no   no      no   no
    """,
}

# Editing the page of each column (the web edit form and PATCH on the API). Editors and above edit what they
# see; a viewer never edits; a restricted page (view restriction only) is edited by those who see it and may
# contribute; a hidden page by its author and the moderators who still see it.
EDIT_PAGE_TABLE = """
    person               open private closed restricted hidden
    anonymous            no   no      no     no         no
    outsider             no   no      no     no         no
    requester            no   no      no     no         no
    viewer               no   no      no     no         no
    restricted_out       no   no      no     no         no
    editor               yes  yes     yes    no         no
    author               yes  yes     yes    yes        yes
    moderator            yes  yes     yes    no         yes
    admin                yes  yes     yes    yes        yes
    community_moderator  yes  yes     yes    no         yes
    community_admin      yes  yes     yes    yes        yes
    staff                yes  yes     yes    yes        yes
    banned               no   no      no     no         no
    removed              no   no      no     no         no
"""
# fmt: on


def _parse(text: str, header: list[str], words: set[str]) -> dict[str, dict[str, str]]:
    """One literal table -> {person: {column: word}}; a malformed table fails at import."""
    lines = [line.split() for line in text.strip().splitlines()]
    assert lines[0] == ["person", *header], lines[0]
    table = {}
    for row in lines[1:]:
        assert len(row) == len(header) + 1, row
        assert all(word in words for word in row[1:]), row
        table[row[0]] = dict(zip(header, row[1:], strict=True))
    assert list(table) == PERSONS, list(table)
    return table


SEE = {column: _parse(text, KINDS, {"yes", "no", "n/a"}) for column, text in SEE_TABLES.items()}
EDIT_PAGE = _parse(EDIT_PAGE_TABLE, COLUMNS, {"yes", "no"})
assert list(SEE) == COLUMNS


def may_see(person: str, column: str, kind: str) -> bool | None:
    """True / False from the table; None where the content does not exist ("n/a")."""
    word = SEE[column][person][kind]
    return None if word == "n/a" else word == "yes"


def may_edit_page(person: str, column: str) -> bool:
    return EDIT_PAGE[person][column] == "yes"
