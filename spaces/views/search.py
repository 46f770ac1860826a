"""The search page and the header's title suggestions. Everything shown comes from ``selectors_search``, which
filters by permission inside its query. Open to everyone: anonymous visitors search open spaces."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from spaces import selectors_search
from spaces.forms_search import MAX_QUERY, SearchForm


@require_GET
def search_page(request):
    form = SearchForm(request.GET or None, user=request.user)
    results = None
    if form.is_bound and form.is_valid() and form.cleaned_data["q"].strip():
        data = form.cleaned_data
        results = selectors_search.search(
            request.user,
            data["q"],
            community=data["community"],
            space=data.get("space"),
            kinds=data["kind"],
            author=data["author"] or None,
            date_from=data["date_from"],
            date_to=data["date_to"],
            page=request.GET.get("page") or 1,
        )
    params = request.GET.copy()
    params.pop("page", None)
    context = {"form": form, "results": results, "query": f"{params.urlencode()}&" if params else ""}
    template = "spaces/partials/search_results.html" if request.htmx else "spaces/search.html"
    return render(request, template, context)


@require_GET
def search_suggest(request):
    """htmx, while a query is typed in the header: up to eight titles the member may see, as links."""
    text = request.GET.get("q", "")[:MAX_QUERY]
    suggestions = selectors_search.title_suggestions(request.user, text)
    return render(request, "spaces/partials/search_suggestions.html", {"suggestions": suggestions, "text": text})
