import pytest
from django.db import transaction

from tests.api.support import make_api_world

VISIBILITIES = ["open", "private", "closed"]


@pytest.fixture(scope="module")
def api_worlds(django_db_setup, django_db_blocker):
    """The three worlds, built once per module in a transaction rolled back at the end (as tests/access does):
    each test runs in its own savepoint, so a write in one cell is gone before the next."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield {visibility: make_api_world(visibility) for visibility in VISIBILITIES}
        transaction.set_rollback(True)
