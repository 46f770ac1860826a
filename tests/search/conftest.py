"""Fixtures shared by the search tests."""

import pytest

from spaces.models import Visibility
from tests.search.helpers import page


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def filler(w):
    """Pages without the words searched for, so every word below is rare, as in a real space."""
    for n in range(6):
        page(w.space, w.editor, f"Meeting notes {n}", "Agenda, attendance and actions of the working group.")
