"""The OpenAPI schema is a contract: `/api/v1/` changes only deliberately.

When a change is intended, regenerate the committed copy with
``python manage.py spectacular --file tests/api/schema-v1.yaml`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

COMMITTED = Path(__file__).with_name("schema-v1.yaml")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("schema") / "schema.yaml"
    call_command("spectacular", "--file", str(target), "--validate", "--fail-on-warn")
    return yaml.safe_load(target.read_text())


def test_the_generated_schema_matches_the_committed_copy(generated):
    committed = yaml.safe_load(COMMITTED.read_text())
    assert generated == committed, (
        "The API schema changed. If that is intended, regenerate tests/api/schema-v1.yaml "
        "(see this module's docstring) and review the diff as a contract change."
    )


def test_every_operation_documents_the_shared_error_shape(generated):
    schema = generated
    assert "Error" in schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code in ("400", "401", "403", "404", "429"):
                content = operation["responses"][code]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path)


@pytest.fixture
def plain_static(settings):
    # No `collectstatic` in tests: the assets are served from the finders instead.
    settings.WHITENOISE_USE_FINDERS = True


def test_the_schema_is_served_and_the_docs_load_their_assets_from_this_site(
    client, db, plain_static
):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/providers" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "swagger-ui" in page
    assert not _outside_assets(page)
    redoc = client.get("/api/redoc/")
    assert redoc.status_code == 200
    assert not _outside_assets(redoc.content.decode())


def _outside_assets(page):
    """Addresses on other hosts the page would load: attributes and script strings.

    Matches the addresses themselves, not a bare "cdn", which a random CSRF token can contain.
    """
    import re

    attributes = re.findall(r'(?:src|href)\s*=\s*["\'](?:https?:)?//[^"\']+', page)
    known = re.findall(r"(?:https?:)?//[\w.-]*(?:cdn|unpkg|jsdelivr|googleapis)[\w.-]*", page)
    return attributes + known


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_docs_assets_are_served_locally(client, db, url, plain_static):
    import re

    page = client.get(url).content.decode()
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert assets, "the docs page references no local assets"
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
