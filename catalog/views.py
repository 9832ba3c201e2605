from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from catalog import selectors


def home(request: HttpRequest) -> HttpResponse:
    providers = list(selectors.providers_for_listing())
    for provider in providers:
        provider.published = (
            provider.published_assessments[0] if provider.published_assessments else None
        )
    return render(
        request,
        "catalog/home.html",
        {"providers": providers, "models": selectors.models_for_listing()},
    )
