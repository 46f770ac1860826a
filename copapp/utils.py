from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, fallback: str) -> str:
    """The ?next= target when it stays on this site, else ``fallback`` (no open redirects)."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def add_service_errors(form, exc) -> None:
    """Put a service's ValidationError onto the form, field by field where it names a field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class PeekPage:
    """One page of a list without counting the whole list: it reads one row more than it shows to know whether a
    next page exists. For long, permission-filtered streams, where ``COUNT(*)`` costs a query that grows with the
    data; ``includes/pagination.html`` then says "Page N" without a total."""

    paginator = None  # no total: the template tests for it

    def __init__(self, object_list, number, per_page: int):
        try:
            self.number = max(int(number or 1), 1)
        except (TypeError, ValueError):
            self.number = 1
        start = (self.number - 1) * per_page
        rows = list(object_list[start : start + per_page + 1])
        self.object_list = rows[:per_page]
        self._has_next = len(rows) > per_page

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
