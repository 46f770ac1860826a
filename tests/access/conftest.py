import pytest
from django.db import transaction

from tests.access.support import VISIBILITIES, make_world


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker):
    """The three worlds, built once per module (and xdist worker) in a transaction rolled back at the end.

    Each test runs inside its own savepoint (pytest-django's ``django_db``), so whatever a test changes (a
    deleted space, a ban) is undone before the next one, and no test pays for building the worlds again.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield {visibility: make_world(visibility) for visibility in VISIBILITIES}
        transaction.set_rollback(True)
