"""Every URL pattern the site answers, walked from Django's resolver (ours, allauth's, the admin's and the API's).

A pattern's key is its namespaced name ("spaces:page-detail"), or "route:<route>" for the few unnamed ones
(the admin's old-style object addresses, allauth's redirects from its former paths, the API's JSON 404). Its
route is the one ``request.resolver_match.route`` reports, so a recorded request can be matched to it. API
operations that share one address ("api:page_list" GET and "api:page_create" POST) are told apart by method.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver
from django.views import static

# Served only with DEBUG on (uploaded public images in local development); never in tests or production.
SKIPPED_VIEWS = {static.serve}
_PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>")


@dataclass(frozen=True)
class Pattern:
    key: str
    name: str | None
    route: str
    params: tuple[str, ...]
    methods: frozenset[str] | None  # None: the view decides (any method may succeed)

    def accepts(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods


def _api_methods() -> dict[str, frozenset[str]]:
    """ "api:<operation>" -> the methods of that operation, from the django-ninja routers."""
    from copapp.api import api

    methods: dict[str, frozenset[str]] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                name = getattr(operation, "url_name", "") or api.get_operation_url_name(operation, router=router)
                methods[f"api:{name}"] = frozenset(m.upper() for m in operation.methods)
    return methods


def _walk(resolver: URLResolver, route: str = "", namespace: str | None = None):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, URLResolver._join_route(route, str(entry.pattern)), inner)
        elif isinstance(entry, URLPattern):
            yield entry, URLResolver._join_route(route, str(entry.pattern)), namespace


@cache
def url_patterns() -> tuple[Pattern, ...]:
    api_methods = _api_methods()
    found: dict[str, Pattern] = {}
    for entry, route, namespace in _walk(get_resolver()):
        if entry.callback in SKIPPED_VIEWS:
            continue
        name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
        key = name or f"route:{route}"
        params = tuple(m.group("name") or m.group("group") for m in _PARAM.finditer(route))
        pattern = Pattern(key=key, name=name, route=route, params=params, methods=api_methods.get(key))
        if key in found:  # the same name twice: the first one wins in reverse(), as in Django
            continue
        found[key] = pattern
    return tuple(found.values())
