"""Request parameters no Mission Control page can use: refused with a 400 before any view runs.

A NUL character is refused by PostgreSQL in any query (a 500 from every filter, search, pause
or clear that passed it on); a query parameter longer than ``MAX_QUERY_PARAMETER`` is no
filter, search or queue name anyone typed. ``ReadOnlyAdmin.urls`` wraps every view of
Mission Control's admins with ``refuse_bad_parameters``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import URLPattern

MAX_QUERY_PARAMETER = 1_000  # characters of one query-string value


def parameter_problem(request: HttpRequest, path_parameters: dict[str, Any]) -> str | None:
    """Why the request's parameters cannot be used (None if they can)."""
    texts: list[tuple[str, Iterable[str]]] = [
        ("the path", [request.path, *map(str, path_parameters.values())]),
        ("the query string", [*request.GET.keys(), *_values(request.GET)]),
    ]
    if request.method == "POST":
        texts.append(("the form", [*request.POST.keys(), *_values(request.POST)]))
    for where, values in texts:
        if any("\x00" in value for value in values):
            return f"A NUL character in {where} is not allowed."
    if any(len(value) > MAX_QUERY_PARAMETER for value in _values(request.GET)):
        return f"A query parameter longer than {MAX_QUERY_PARAMETER:,} characters is not allowed."
    return None


def _values(data: Any) -> list[str]:
    return [value for key in data for value in data.getlist(key)]


def refuse_bad_parameters(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        problem = parameter_problem(request, kwargs)
        if problem is not None:
            return HttpResponseBadRequest(problem, content_type="text/plain")
        return view(request, *args, **kwargs)

    return guarded


def guard_urls(patterns: list[URLPattern]) -> list[URLPattern]:
    """The patterns with every view wrapped by ``refuse_bad_parameters``."""
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = refuse_bad_parameters(pattern.callback)
    return patterns
