"""Django's PostgreSQL backend, whose cursors leave a statement unprepared inside ``copapp.plans.custom_plans()``.

Everything else is Django's: ``DATABASES['default']['OPTIONS']`` turns server-side parameters and psycopg's
prepared statements on (``copapp.settings``, ``DB_PREPARED_STATEMENTS``)."""

from django.db.backends.postgresql import base

from copapp.plans import custom_plans_wanted


class ServerBindingCursor(base.ServerBindingCursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        if prepare is None and custom_plans_wanted():
            prepare = False
        return super().execute(query, params, prepare=prepare, binary=binary)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("cursor_factory") is base.ServerBindingCursor:
            params["cursor_factory"] = ServerBindingCursor
        return params
