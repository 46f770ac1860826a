"""The backup tests use the admin test's data set: at least one row of every model of our apps, with files."""

from tests.test_admin import populated, superuser  # noqa: F401
