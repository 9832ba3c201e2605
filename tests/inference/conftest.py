from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from catalog.models import AIModel, Claim, ClaimKey, Provider, Source
from inference.models import Endpoint
from tests.inference.testserver import ProtocolServer, ServedModel


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.INFERENCE_RETRY_BACKOFF = 0.01
    settings.INFERENCE_MAX_RETRIES = 2
    # The protocol servers listen on 127.0.0.1, a loopback address model calls may not reach
    # unless it is allow-listed, as a deployment allow-lists its local model servers.
    settings.INFERENCE_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def serve():
    """Start a protocol server on 127.0.0.1 for this test: ``serve(models=[...], ...)``."""
    started: list[ProtocolServer] = []

    def start(**kwargs) -> ProtocolServer:
        kwargs.setdefault("models", [ServedModel(id="test-model")])
        server = ProtocolServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def provider(db) -> Provider:
    return Provider.objects.create(slug="acme-ai", name="Acme AI", kind="model_developer")


@pytest.fixture
def ai_model(provider) -> AIModel:
    return AIModel.objects.create(
        provider=provider, slug="acme-large", name="Acme Large", api_ids=["acme-large-latest"]
    )


@pytest.fixture
def source(provider) -> Source:
    return Source.objects.create(
        slug="acme-docs",
        url="https://docs.acme.example/capabilities",
        title="Capabilities",
        publisher="Acme AI",
        provider=provider,
        doc_type="documentation",
    )


@pytest.fixture
def acme_claim(provider, ai_model, source):
    """Makes a claim ``key`` about Acme Large (or Acme AI with ``on_provider=True``)."""

    def make(
        key: str,
        *,
        flag: str = "",
        number: int | None = None,
        on_provider: bool = False,
        quote: str = "",
    ) -> Claim:
        claim_key = (
            ClaimKey.objects.get(key=key)
            if ClaimKey.objects.filter(key=key).exists()
            else (ClaimKey.objects.create(key=key, label=key, group="right", value_type="flag"))
        )
        if not flag and number is None:
            flag = "yes"
        claim = Claim(
            provider=provider if on_provider else None,
            model=None if on_provider else ai_model,
            key=claim_key,
            value_flag=flag,
            value_number=None if number is None else Decimal(number),
            value_unit="tokens" if number is not None else "",
            source=source,
            evidence_quote=quote,
            checked_at=dt.date(2026, 1, 1),
        )
        claim.full_clean()
        claim.save()
        return claim

    return make


@pytest.fixture
def make_endpoint(provider, ai_model):
    def make(server: ProtocolServer | None = None, **fields) -> Endpoint:
        fields.setdefault("name", "acme-api")
        fields.setdefault("kind", Endpoint.Kind.PROVIDER_API)
        if server is not None:
            fields.setdefault("base_url", server.base_url)
        fields.setdefault("provider", provider)
        fields.setdefault("default_model", "acme-large-latest")
        endpoint = Endpoint(**fields)
        endpoint.full_clean()
        endpoint.save()
        endpoint.served_models.add(ai_model)
        return endpoint

    return make


@pytest.fixture
def acme_server(serve) -> ProtocolServer:
    """A server for the Acme model that supports everything the probes ask for."""
    return serve(
        models=[
            ServedModel(
                id="acme-large-latest",
                aliases=["acme-large"],
                embedding_dim=16,
                moderation=True,
                context_window=1000,
            )
        ]
    )
