"""docs/permissions.md must show the same space matrix as the literal tables of the access-matrix test."""

from pathlib import Path

import pytest

from tests.access.test_space_access_matrix import ACTIONS, EXPECTED

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
HEADINGS = {"open": "### Open spaces", "private": "### Private spaces", "closed": "### Closed spaces"}
COLUMNS = [
    "anonymous",
    "outsider",
    "requester",
    "invited",
    "banned",
    "viewer",
    "editor",
    "moderator",
    "admin",
    "community_moderator",
    "community_admin",
    "staff",
]
HEADERS = [
    "anonymous",
    "outsider",
    "requester",
    "invited",
    "banned",
    "viewer",
    "editor",
    "moderator",
    "admin",
    "community moderator",
    "community admin",
    "site staff",
]


def _doc_table(visibility: str) -> list[list[str]]:
    lines = DOC.read_text().splitlines()
    start = lines.index(HEADINGS[visibility])
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows


@pytest.mark.parametrize("visibility", list(HEADINGS))
def test_doc_matrix_matches_test_table(visibility):
    header, _rule, *body = _doc_table(visibility)
    assert header == ["action", *HEADERS]
    assert [row[0] for row in body] == ACTIONS
    for row in body:
        action = row[0]
        assert row[1:] == [EXPECTED[visibility][persona][action] for persona in COLUMNS], action
