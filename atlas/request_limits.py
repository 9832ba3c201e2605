"""Requests refused before any view reads them: text no database can store (a NUL character)
in the address, a query parameter, a form field or the credentials, and bodies or parameter
lists over Django's limits (``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``DATA_UPLOAD_MAX_NUMBER_FIELDS``).

PostgreSQL refuses NUL in text, so such a value reaching a query is a 500; refusing it here,
once, covers every page, every API endpoint and every authentication class. Under ``/api/`` the
refusal is the API's JSON error shape; elsewhere it is the site's 400 page. JSON bodies are
checked by the API's parser (``atlas.api.parsing.JSONParser``), which reads them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from atlas.api.errors import error_body
from atlas.storable_text import unstorable_text

NUL = "\x00"


def body_too_large_message() -> str:
    return (
        "The request body is larger than this server accepts: at most "
        f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)."
    )


def too_many_fields_message() -> str:
    return (
        "The request has more query parameters or form fields than this server accepts: at "
        f"most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} (DATA_UPLOAD_MAX_NUMBER_FIELDS)."
    )


def _params_problems(prefix: str, params: Iterable[tuple[str, list[str]]]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name, values in params:
        path = f"{prefix}{name}"
        if reason := unstorable_text(name):
            problems[path] = f"A parameter name {reason[0].lower()}{reason[1:]}"
            continue
        reasons = [reason for value in values if (reason := unstorable_text(value))]
        if reasons:
            problems[path] = reasons[0]
    return problems


def _credentials_problem(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if NUL in header:
        return "Contains a NUL character."
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        # Not Basic credentials at all: the authentication class says so (401).
        return None
    if b"\x00" in decoded:
        return "The user name or password contains a NUL character."
    return None


def request_problems(request: HttpRequest) -> dict[str, str]:
    """What in ``request`` no database can store, by where it is: ``path``,
    ``query.<name>``, ``<form field>``, ``authorization``; empty when nothing.

    Raises Django's ``RequestDataTooBig`` or ``TooManyFieldsSent`` when the body or the
    parameters are over the limits (reading ``GET`` and ``POST`` checks them).
    """
    content_type = request.META.get("CONTENT_TYPE", "")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # Django checks the size when the body is read; an API view reads its JSON body as a
    # stream, which Django does not check, so the declared size is checked here for all.
    if (
        limit is not None
        and not content_type.startswith("multipart/")
        and int(request.META.get("CONTENT_LENGTH") or 0) > limit
    ):
        raise RequestDataTooBig(body_too_large_message())
    problems: dict[str, str] = {}
    if reason := unstorable_text(request.path):
        problems["path"] = reason
    problems |= _params_problems("query.", request.GET.lists())
    # Only form bodies are parsed here (``POST`` is empty for any other content type);
    # multipart file contents are not text and are not checked.
    problems |= _params_problems("", request.POST.lists())
    if reason := _credentials_problem(request):
        problems["authorization"] = reason
    return problems


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def refusal(
    request: HttpRequest, *, code: str, message: str, problems: dict[str, str] | None = None
) -> HttpResponse:
    """A 400: the API's JSON error shape under ``/api/``, the site's 400 page elsewhere."""
    problems = problems or {}
    if _is_api(request):
        fields = [{"path": path, "code": "invalid", "message": m} for path, m in problems.items()]
        return JsonResponse(error_body(code=code, message=message, fields=fields), status=400)
    # The page echoes nothing refused (the search box shows the query), and reading an
    # over-long query again would raise again.
    request.GET = QueryDict()
    shown = {path.replace(NUL, "\\0"): m for path, m in problems.items()}
    context = {"message": message, "problems": shown}
    return render(request, "400.html", context, status=400)


class RequestLimitsMiddleware:
    """Refuses, with a 400, a request whose address, query, form fields or credentials hold
    text no database can store, or whose body or parameter count is over Django's limits.
    Cookies holding such text are dropped as if not sent (the session cookie is looked up in
    the database). Placed before the session middleware, so nothing has read the request yet.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, value in list(request.COOKIES.items()):
            if unstorable_text(name) or unstorable_text(value):
                del request.COOKIES[name]
        try:
            problems = request_problems(request)
        except RequestDataTooBig:
            return refusal(request, code="request_too_large", message=body_too_large_message())
        except TooManyFieldsSent:
            return refusal(request, code="too_many_fields", message=too_many_fields_message())
        except TooManyFilesSent:
            message = (
                "The request has more files than this server accepts: at most "
                f"{settings.DATA_UPLOAD_MAX_NUMBER_FILES} (DATA_UPLOAD_MAX_NUMBER_FILES)."
            )
            return refusal(request, code="too_many_files", message=message)
        except MultiPartParserError as exc:
            return refusal(request, code="invalid", message=f"The form body cannot be read: {exc}")
        if problems:
            names = ", ".join(problems)
            return refusal(
                request, code="invalid", message=f"Invalid input: {names}.", problems=problems
            )
        return self.get_response(request)
