"""Builders and constants shared by the tests: plain functions, no fixtures.

Fixtures live in the ``conftest.py`` modules and call these; test modules import these from
here, never from a ``conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Assessment, AssessmentSource, Criterion, Rating, RatingEvidence
from assessments.services.assessments import evidence_source_for_url
from assessments.services.roles import role_group
from catalog.models import (
    FAQ,
    AIModel,
    Claim,
    ClaimKey,
    Comparison,
    Licence,
    Modality,
    Price,
    Provider,
    Source,
    Verification,
)
from crawlers.models import Check, CrawlSettings, Version

PASSWORD = "a long test passphrase"
# Shared test data, beside the checkout: <parent of the project>/shared/<name>.
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
# The browser the page tests drive, and where their screenshots go for a person to look at.
CHROMIUM = os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
# axe-core as package-lock.json pins it, installed by `make test` (`npm ci`).
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


# The characters: users with roles, and API clients signed in as them.


def make_user(username: str, *roles: str, **extra):
    """A user with ``roles`` (group names) whose password is ``PASSWORD``."""
    user = get_user_model().objects.create_user(
        username=username,
        email=f"{username}@example.org",
        password=PASSWORD,
        **extra,
    )
    for name in roles:
        # Through the role service: transactional tests flush the groups the data migration
        # made, and the service makes them again with their permissions.
        user.groups.add(role_group(role=name))
    return user


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


# Shared test data too large to commit.


def shared_dir(name: str) -> Path:
    """The shared test data folder ``name``: ``shared/<name>`` beside the project's checkout.

    Data too large or too widely used to commit (real pages, licence texts) lives there, where
    CI and every developer have it. When it is missing the calling test is skipped, except
    when the ``CI`` environment variable is set: there it fails, since CI always has it.
    """
    folder = SHARED / name
    if not folder.is_dir():
        message = f"The shared test data folder {folder} is missing."
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return folder


# The small hand-built catalogue of the API tests.


class Catalogue:
    """Handles on the records of the small test catalogue."""


def build_catalogue(*, models_per_provider: int = 2, providers: int = 2) -> Catalogue:
    today = timezone.localdate()
    cat = Catalogue()
    text = Modality.objects.get_or_create(slug="text", defaults={"name": "Text"})[0]
    image = Modality.objects.get_or_create(slug="image", defaults={"name": "Image"})[0]
    cat.apache = Licence.objects.create(
        slug="apache-2-0",
        spdx_id="Apache-2.0",
        name="Apache 2.0",
        kind=Licence.Kind.PERMISSIVE,
        url="https://www.apache.org/licenses/LICENSE-2.0",
        permissions=["commercial-use", "modifications", "distribution"],
        commercial_use="yes",
        self_hosting="yes",
        fine_tuning="yes",
        weight_redistribution="yes",
        attribution_required="yes",
    )
    cat.proprietary = Licence.objects.create(
        slug="acme-terms",
        name="Acme terms",
        kind=Licence.Kind.PROPRIETARY,
        commercial_use="yes",
        self_hosting="no",
        fine_tuning="no",
        weight_redistribution="no",
        attribution_required="no",
    )
    cat.commercial = ClaimKey.objects.create(
        key="commercial_use_allowed",
        label="Commercial use allowed",
        group="right",
        value_type="flag",
    )
    cat.training = ClaimKey.objects.create(
        key="training_use_of_input",
        label="Inputs used for training",
        group="data_protection",
        value_type="flag",
    )
    cat.eu = ClaimKey.objects.create(
        key="eu_data_residency",
        label="EU data residency",
        group="data_protection",
        value_type="flag",
    )
    cat.criterion = Criterion.objects.create(slug="dpa", name="DPA offered", position=1)
    cat.criterion2 = Criterion.objects.create(slug="transfers", name="Transfers", position=2)
    cat.providers, cat.models, cat.claims, cat.sources = [], [], [], []
    for p in range(providers):
        provider = Provider.objects.create(
            slug=f"provider-{p}",
            name=f"Provider {p}",
            kind=Provider.Kind.MODEL_DEVELOPER if p % 2 == 0 else Provider.Kind.API_PLATFORM,
            headquarters_country="FR" if p % 2 == 0 else "US",
        )
        source = Source.objects.create(
            slug=f"provider-{p}-terms",
            url=f"https://provider-{p}.example/terms",
            title=f"Provider {p} terms",
            publisher=f"Provider {p}",
            provider=provider,
            doc_type=Source.DocType.TERMS,
        )
        cat.providers.append(provider)
        cat.sources.append(source)
        cat.claims.append(
            Claim.objects.create(
                provider=provider,
                key=cat.eu,
                value_flag="yes" if p % 2 == 0 else "no",
                source=source,
                evidence_quote="Data stays in the EU.",
                checked_at=today - dt.timedelta(days=10 + 200 * (p % 2)),
            )
        )
        cat.claims.append(
            Claim.objects.create(
                provider=provider,
                key=cat.training,
                value_flag="no",
                source=source,
                evidence_quote="We do not train on your inputs.",
                checked_at=today - dt.timedelta(days=10),
            )
        )
        for m in range(models_per_provider):
            open_weights = m % 2 == 0
            model = AIModel.objects.create(
                provider=provider,
                slug=f"model-{p}-{m}",
                name=f"Model {p}.{m}",
                weights=AIModel.Weights.OPEN if open_weights else AIModel.Weights.API_ONLY,
                licence=cat.apache if open_weights else cat.proprietary,
                context_window=32000,
            )
            model.modalities.add(text, *([image] if m % 2 else []))
            claim = Claim.objects.create(
                model=model,
                key=cat.commercial,
                value_flag="yes",
                source=source,
                evidence_quote="You may use the outputs commercially.",
                checked_at=today - dt.timedelta(days=5),
            )
            Verification.objects.create(
                claim=claim,
                checked_at=timezone.now(),
                method=Verification.Method.SOURCE_CHECK,
                outcome=Verification.Outcome.CONFIRMED,
            )
            Price.objects.create(
                model=model,
                input_per_mtok=Decimal("0.5") * (m + 1),
                output_per_mtok=Decimal("1.5") * (m + 1),
                as_of=today,
                source=source,
            )
            cat.models.append(model)
            cat.claims.append(claim)
    return cat


def publish_assessment(*, provider: Provider, author: User | None, cat: Catalogue) -> Assessment:
    assessment = Assessment.objects.create(
        provider=provider,
        status=Assessment.Status.PUBLISHED,
        verdict=Assessment.Verdict.RECOMMENDED,
        assessed_on=timezone.localdate(),
        author=author,
        published_at=timezone.now(),
    )
    rating = Rating.objects.create(
        assessment=assessment, criterion=cat.criterion, value="supported"
    )
    RatingEvidence.objects.create(
        rating=rating,
        source=cat.sources[0],
        quote="A DPA is offered.",
        read_on=timezone.localdate(),
    )
    return assessment


def complete_body(*, cat: Catalogue, provider: int = 1) -> dict:
    """A request body for a draft complete enough to submit: a verdict, a conclusion, the
    server locations and every criterion rated, justified and evidenced with a quote."""
    source = cat.sources[provider].slug
    read_on = timezone.localdate().isoformat()
    return {
        "provider": cat.providers[provider].slug,
        "assessed_on": read_on,
        "verdict": "conditional",
        "conclusion": "Usable with a DPA.",
        "server_locations": "France",
        "ratings": [
            {
                "criterion": criterion.slug,
                "value": value,
                "justification": f"{criterion.name}: read in the terms.",
                "evidence": [{"source": source, "quote": quote, "read_on": read_on}],
            }
            for criterion, value, quote in (
                (cat.criterion, "supported", "We sign DPAs."),
                (cat.criterion2, "partial", "Transfers rely on standard clauses."),
            )
        ],
    }


def complete_draft(
    *, cat: Catalogue, author: User, provider: int = 1, status: str = Assessment.Status.DRAFT
) -> Assessment:
    """The same complete draft as ``complete_body``, written directly, in ``status``."""
    body = complete_body(cat=cat, provider=provider)
    assessment = Assessment.objects.create(
        provider=cat.providers[provider],
        author=author,
        status=status,
        assessed_on=timezone.localdate(),
        verdict=body["verdict"],
        conclusion=body["conclusion"],
        server_locations=body["server_locations"],
    )
    for criterion, rating in zip((cat.criterion, cat.criterion2), body["ratings"], strict=True):
        saved = Rating.objects.create(
            assessment=assessment,
            criterion=criterion,
            value=rating["value"],
            justification=rating["justification"],
        )
        RatingEvidence.objects.create(
            rating=saved,
            source=cat.sources[provider],
            quote=rating["evidence"][0]["quote"],
            read_on=timezone.localdate(),
        )
    return assessment


# Moderation on the seeded catalogue: one criterion of Mistral AI's assessment amended.


CHANGED_CRITERION = "eu-saas"
EVIDENCE_URL = "https://docs.mistral.ai/deployment/eu-residency"


def published_of(provider: Provider) -> Assessment:
    return Assessment.objects.get(provider=provider, status=Assessment.Status.PUBLISHED)


def amend_one_criterion(draft: Assessment, *, value: str = "supported") -> Rating:
    """Change one criterion of a pre-filled draft, with new evidence, as a reviewer would."""
    rating = draft.ratings.get(criterion__slug=CHANGED_CRITERION)
    rating.value = value
    rating.justification = "The EU residency page now binds all API data to EU data centres."
    rating.save()
    source = evidence_source_for_url(url=EVIDENCE_URL, provider=draft.provider)
    RatingEvidence.objects.create(
        rating=rating,
        source=source,
        quote="All customer data of La Plateforme is stored and processed in the EU.",
        read_on=draft.assessed_on,
    )
    return rating


# Sources and claims for the crawlers, and checks run in place.


LONG_AGO = dt.date(2024, 1, 1)
_counter = itertools.count(1)


def corpus_page(name: str) -> bytes:
    """A snapshot of the shared real-page corpus, e.g. 'openai/privacy-policy/2024-10-18.html'."""
    return (shared_dir("corpus") / name).read_bytes()


def make_source(url: str, *, keep: str = "", remove: str = "", provider=None) -> Source:
    number = next(_counter)
    source = Source.objects.create(
        slug=f"document-{number}",
        url=url,
        title=f"Document {number}",
        publisher="Example AI",
        provider=provider,
        doc_type=Source.DocType.TERMS,
    )
    CrawlSettings.objects.create(source=source, keep_selectors=keep, remove_selectors=remove)
    return source


def make_claim(*, source: Source, provider: Provider, key: ClaimKey, quote: str) -> Claim:
    return Claim.objects.create(
        provider=provider,
        key=key,
        value_text=quote[:300],
        scope_plan=f"plan-{next(_counter)}",
        source=source,
        evidence_quote=quote,
        checked_at=LONG_AGO,
    )


def run_check(source: Source, *, final_attempt: bool = True):
    """Queue a check of ``source`` and run it here, as a worker would; returns the check."""
    from crawlers import services
    from crawlers.models import Check

    check = services.check_queue(source=source, reason="test")
    services.check_run(check_id=check.pk, final_attempt=final_attempt)
    return Check.objects.get(pk=check.pk)


# Many rows at once, for the pages' N+1 checks.


class RowBuilder:
    """Adds providers, each with models, claims, checks, prices and a published assessment."""

    def __init__(self) -> None:
        self.today = timezone.localdate()
        self.licence, _ = Licence.objects.get_or_create(
            slug="test-permissive",
            defaults=dict(
                name="Test Permissive Licence",
                kind=Licence.Kind.PERMISSIVE,
                commercial_use="yes",
                self_hosting="yes",
                fine_tuning="yes",
                weight_redistribution="yes",
                attribution_required="yes",
            ),
        )
        self.keys = [
            ClaimKey.objects.get_or_create(
                key=f"test_key_{group}",
                defaults=dict(label=f"Test key {group}", group=group, value_type="flag"),
            )[0]
            for group in ("right", "constraint", "data_protection", "capability", "commercial")
        ]
        self.criteria = [
            Criterion.objects.get_or_create(
                slug=f"test-criterion-{i}",
                defaults=dict(name=f"Test criterion {i}", position=90 + i),
            )[0]
            for i in range(2)
        ]
        self.modality, _ = Modality.objects.get_or_create(slug="text", defaults={"name": "Text"})
        self.count = Provider.objects.filter(slug__startswith="bulk-").count()

    def add(self, n: int, *, models_each: int = 2, claims_each: int = 3) -> list[Provider]:
        made = []
        for _ in range(n):
            self.count += 1
            i = self.count
            provider = Provider.objects.create(
                slug=f"bulk-{i}",
                name=f"Bulk Provider {i}",
                kind="model_developer",
                headquarters_country="DE",
            )
            source = Source.objects.create(
                slug=f"bulk-source-{i}",
                url=f"https://example.test/{i}/terms",
                title=f"Terms {i}",
                publisher=f"Bulk {i}",
                provider=provider,
                doc_type="terms",
            )
            FAQ.objects.create(provider=provider, question=f"Q{i}?", answer="A.", source=source)
            for j in range(claims_each):
                claim = Claim.objects.create(
                    provider=provider,
                    key=self.keys[j % len(self.keys)],
                    value_flag="yes",
                    source=source,
                    checked_at=self.today - dt.timedelta(days=30 * j),
                    scope_plan=f"plan-{j}",
                    condition="When asked.",
                    evidence_quote="We say so.",
                )
                Verification.objects.create(
                    claim=claim, checked_at=timezone.now(), method="manual", outcome="confirmed"
                )
            previous = None
            for k in range(models_each):
                model = AIModel.objects.create(
                    provider=provider,
                    slug=f"bulk-{i}-model-{k}",
                    name=f"Bulk {i} Model {k}",
                    weights="open",
                    licence=self.licence,
                    context_window=8000,
                    successor=previous,
                )
                model.modalities.add(self.modality)
                Price.objects.create(
                    model=model,
                    input_per_mtok=Decimal("1.5"),
                    output_per_mtok=Decimal("3"),
                    as_of=self.today,
                    source=source,
                )
                Claim.objects.create(
                    model=model,
                    key=self.keys[3],
                    value_flag="yes",
                    source=source,
                    checked_at=self.today,
                )
                previous = model
            assessment = Assessment.objects.create(
                provider=provider,
                status="published",
                verdict="recommended",
                assessed_on=self.today,
                published_at=timezone.now(),
                strengths=["Good."],
            )
            AssessmentSource.objects.create(
                assessment=assessment, source=source, read_on=self.today
            )
            for criterion in self.criteria:
                rating = Rating.objects.create(
                    assessment=assessment,
                    criterion=criterion,
                    value="supported",
                    justification="Documented.",
                )
                RatingEvidence.objects.create(rating=rating, source=source, read_on=self.today)
            comparison = Comparison.objects.create(slug=f"bulk-{i}-vs", title=f"Bulk {i} compared")
            comparison.providers.add(provider)
            made.append(provider)
        return made


# The browser (the pages come from the ``new_page`` and ``browser_page`` fixtures).


def shot(page, name: str, selector: str | None = None, **kwargs) -> None:
    """Save the viewport, or just the element a reader needs to see, as ``<name>.png``."""
    path = str(SHOTS / f"{name}.png")
    if selector:
        page.locator(selector).first.screenshot(path=path)
    else:
        page.screenshot(path=path, **kwargs)


def axe_problems(
    page, *, colours: bool = True, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[str]:
    """axe-core's violations of ``impacts`` on the page as it stands, one line per rule and
    element ("rule (impact) at selector: what to fix"); empty when there are none.

    Every rule axe ships runs except the experimental ones (WCAG 2.0-2.2 A and AA, best
    practice); ``colours=False`` leaves out text contrast, nine tenths of axe's time on a long
    page, for a page whose colours were checked already. axe is loaded from ``node_modules``
    into the page, so nothing is fetched from elsewhere; a missing install fails the calling
    test (`make test` installs it).
    """
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `npm ci` (make test does)")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    # Only violations are wanted: axe then keeps one example of each pass and each incomplete.
    options = {"resultTypes": ["violations"]}
    if not colours:
        options["rules"] = {"color-contrast": {"enabled": False}}
    violations = page.evaluate(
        "async (options) => (await axe.run(document, options)).violations", options
    )
    return [
        f"{v['id']} ({v['impact']}) at {', '.join(map(str, node['target']))}: "
        f"{node.get('failureSummary', v['help']).splitlines()[-1].strip()}"
        for v in violations
        if v["impact"] in impacts
        for node in v["nodes"]
    ]


# WCAG 2.2 AA beyond what axe checks: each focus outline at 3:1 against what surrounds it
# (1.4.11), and each link set in running text without an underline at 3:1 against that text
# (1.4.1, as in technique G183). The contrast ratio is WCAG's, from relative luminance.
_CONTRAST_JS = Path(__file__).resolve().parent / "web" / "contrast.js"


def contrast_problems(page) -> list[str]:
    """Focus outlines below 3:1 against their surroundings (or missing), and links in running
    text that are told apart by a colour below 3:1 against the text; one line each.

    Focus is moved by script after a key press, so the browser draws its keyboard focus style
    (``:focus-visible``), as for a keyboard user.
    """
    page.keyboard.press("Shift")
    found = page.evaluate(_CONTRAST_JS.read_text())
    return found[:10] + ([f"... and {len(found) - 10} more"] if len(found) > 10 else [])


_REFERENCES_JS = Path(__file__).resolve().parent / "web" / "references.js"


def reference_problems(page) -> list[str]:
    """Ids that ``aria-describedby``, ``aria-labelledby`` or a label's ``for`` name but the page
    lacks (an error or help a screen reader would never reach), and radio buttons outside a
    fieldset with a legend; one line each."""
    return page.evaluate(_REFERENCES_JS.read_text())


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")


# The stored text an approval re-reads: one quote found in it, one absent.

OLD = dt.date(2025, 1, 1)
FOUND = "Customer data of La Plateforme is stored in the European Union."
ABSENT = "We do not use your inputs to train our models."
TEXT = (
    "Data residency\n"
    f"{FOUND} Backups stay in the same region.\n"
    "Support staff may access data to answer a ticket.\n"
)


def store_text(source_id: int, text: str, *, read_days_ago: int | None = None) -> Version:
    """The source's latest stored text, as the crawlers keep it; ``read_days_ago`` adds the
    fetch check that last read it."""
    number = Version.objects.filter(source_id=source_id).count() + 1
    version = Version.objects.create(
        source_id=source_id,
        number=number,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        cause=Version.Cause.FIRST if number == 1 else Version.Cause.PROVIDER_CHANGE,
        created_at=timezone.now() - dt.timedelta(days=5),
        raw_body=Version.compress(text.encode()),
        raw_size=len(text),
        extractor_revision=1,
    )
    CrawlSettings.objects.update_or_create(
        source_id=source_id, defaults={"current_version": version}
    )
    if read_days_ago is not None:
        read_at = timezone.now() - dt.timedelta(days=read_days_ago)
        Check.objects.create(
            source_id=source_id,
            kind=Check.Kind.FETCH,
            status=Check.Status.DONE,
            outcome=Check.Outcome.UNCHANGED,
            queued_at=read_at,
            finished_at=read_at,
            url="https://example.org/",
            version=version,
        )
    return version
