"""The crawler on real pages: each corpus document served as one URL changing over time.

For every step the expectations come from the corpus notes: markup-only steps store no
version, real changes exactly one; quotes marked gone demote their claim, quotes marked
present confirm theirs.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers.models import Check, Version
from crawlers.selectors import version_diff
from tests.crawlers.server import Page
from tests.factories import corpus_page, make_claim, make_source, run_check

OPENAI_REMOVE = 'select[name="Locale Select"]'

# document: (path on the fixture server, keep, remove, steps)
# step: (snapshot, "first" | "changed" | "same", {quote: present?} checked after this step)
DOCUMENTS = {
    "mistral-terms": (
        "/mistral/terms/#terms-of-use", "#terms-of-use", "",
        [
            ("mistral-ai/terms-of-service/2024-05-22.html", "first", {}),
            ("mistral-ai/terms-of-service/2024-06-05.html", "changed", {
                "You grant Us a worldwide, revocable": False,
                "This license is granted for the duration of the intellectual property "
                "rights under applicable law.": False,
                "YYou may deactivate these Filters": False,
                "You are the sole owner of the Outputs.": True,
                "right to use Your User Feedback for the purpose of improving Our Model(s)": True,
            }),
            ("mistral-ai/terms-of-service/2024-06-07.html", "same", {}),
            ("mistral-ai/terms-of-service/2024-08-07.html", "changed", {
                "If You subscribe to any of Our Services via a marketplace": False,
                "Subscription to the Services via a Marketplace": False,
                "You must not use the Outputs or any modified or derived version of the "
                "Outputs to reverse engineer the Services.": True,
                "These Terms of Use do not apply to You if You use Our Services via a cloud "
                "provider": True,
            }),
        ],
    ),
    "mistral-privacy": (
        "/mistral/terms/#privacy-policy", "#privacy-policy", "",
        [
            ("mistral-ai/privacy-policy/2024-05-29.html", "first", {}),
            ("mistral-ai/privacy-policy/2024-06-05.html", "changed", {
                "Conduct research and improve the Services.": False,
                "even if we apply best practices to filter such data": False,
                "Make aggregated statistics about the use of the Services.": True,
                "Security data: the security logs are stored for 1 rolling year.": True,
            }),
            ("mistral-ai/privacy-policy/2024-08-07.html", "changed", {
                "Please note that if You subscribe to Our Services via a marketplace": False,
                "You can opt-out of the Mistral AI Training Data at any time by making a "
                "request directly on Our Support Chatbot available on Our Platform.": False,
                "You can opt-out of Mistral AI Training Data at any time by making a request "
                "on Our Support Chatbot available directly on Our Platform.": True,
                "Mistral AI does not engage in profiling or automated decision-making in the "
                "Processing of Personal Data.": True,
            }),
        ],
    ),
    "anthropic-terms": (
        "/anthropic/legal/consumer-terms", "main", "",
        [
            ("anthropic/terms-of-service/2025-08-27.html", "first", {}),
            ("anthropic/terms-of-service/2025-08-28.html", "same", {}),
            ("anthropic/terms-of-service/2025-08-29.html", "changed", {
                "We will not train our models on any Materials that are not publicly "
                "available, except in two circumstances": False,
                "Unless you have already used the Services,": False,
                "You must be at least 18 years old to use the Services.": True,
                "To decompile, reverse engineer, disassemble, or otherwise reduce our "
                "Services to human-readable form": True,
                "Outputs may contain content that is inconsistent with Anthropic\u2019s "
                "views.": True,
            }),
        ],
    ),
    "anthropic-privacy": (
        "/anthropic/legal/privacy", "main", "",
        [
            ("anthropic/privacy-policy/2025-08-28.html", "first", {}),
            ("anthropic/privacy-policy/2025-08-29.html", "changed", {
                "We will not use your Inputs or Outputs to train our models, unless:": False,
                "otherwise explicitly opted in to the use of your Inputs and Outputs for "
                "training purposes": False,
                "To improve the Services and conduct research;": False,
                "Datasets that we obtain through commercial agreements with third party "
                "businesses": True,
                "Anthropic does not \u201csell\u201d your personal data": True,
            }),
            ("anthropic/privacy-policy/2025-08-30.html", "same", {}),
        ],
    ),
    "openai-terms": (
        "/openai/policies/eu-terms-of-use/", "main", OPENAI_REMOVE,
        [
            ("openai/terms-of-service/2024-10-19.html", "first", {}),
            ("openai/terms-of-service/2024-10-23.html", "changed", {
                "November 14, 2023": False,
                "We can use your Content worldwide to provide, maintain, develop, and "
                "improve our Services": True,
                "Using Output to develop models that compete with OpenAI.": True,
            }),
            ("openai/terms-of-service/2024-12-18.html", "changed", {
                "3180 18th Street": False,
                "If you do not want us to use your Content to train our models, you have the "
                "option to opt out by updating your account settings.": True,
                "Thank you for using OpenAI!": True,
            }),
        ],
    ),
    "openai-privacy": (
        "/openai/policies/eu-privacy-policy/", "main", OPENAI_REMOVE,
        [
            ("openai/privacy-policy/2024-10-18.html", "first", {}),
            ("openai/privacy-policy/2024-10-19.html", "same", {}),
            ("openai/privacy-policy/2024-11-05.html", "changed", {
                "We have pages on social media sites like Instagram, Facebook, Medium, X, "
                "YouTube and LinkedIn.": False,
                "As noted above, we use Content you provide us to improve our Services, for "
                "example to train the models that power our Services.": False,
                "we will permanently delete new conversations after 30 days": False,
                "This Privacy Policy does not apply to content that we process on behalf of "
                "customers of our business offerings, such as our API.": True,
                "on how you can opt out of our use of your Content to train our models": True,
            }),
        ],
    ),
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("document", sorted(DOCUMENTS))
def test_each_corpus_document_versions_and_claims_follow_the_notes(
    document, server, provider, claim_key
):
    path, keep, remove, steps = DOCUMENTS[document]
    source = make_source(server.url(path), keep=keep, remove=remove, provider=provider)
    server_path = path.split("#", 1)[0]
    claims: dict[str, Claim] = {}
    for position, (snapshot, expected, quotes) in enumerate(steps):
        versions_before = Version.objects.filter(source=source).count()
        # Claims citing the quotes the next step judges are made now: this snapshot,
        # the older one of the next pair, must confirm every one of them.
        following = steps[position + 1][2] if position + 1 < len(steps) else {}
        upcoming = {
            quote: make_claim(source=source, provider=provider, key=claim_key, quote=quote)
            for quote in following
            if quote not in ADDED
        }
        server.route(server_path, [Page(corpus_page(snapshot))])
        check = run_check(source)

        assert check.status == Check.Status.DONE, check.error
        versions_after = Version.objects.filter(source=source).count()
        if expected == "first":
            assert check.outcome == Check.Outcome.FIRST
            assert versions_after == 1
        elif expected == "same":
            assert check.outcome == Check.Outcome.UNCHANGED, snapshot
            assert versions_after == versions_before, f"{snapshot} is markup-only"
        else:
            assert check.outcome == Check.Outcome.CHANGED, snapshot
            assert versions_after == versions_before + 1
            diff = version_diff(old=check.previous_version, new=check.version)
            assert diff.startswith("--- ")
            assert any(line.startswith(("+", "-")) for line in diff.splitlines()[2:])

        for quote, present in quotes.items():
            if quote in ADDED:
                assert quote in check.version.text
                continue
            claim = Claim.objects.get(pk=claims[quote].pk)
            last = claim.verifications.first()
            assert last.method == Verification.Method.SOURCE_CHECK
            assert last.evidence["check_id"] == check.pk
            if present:
                assert last.outcome == Verification.Outcome.CONFIRMED, quote
                assert claim.status == Claim.Status.CURRENT
                assert claim.checked_at == timezone.localdate()
                assert last.match_score == 1.0
            else:
                assert last.outcome == Verification.Outcome.CONTRADICTED, quote
                assert claim.status == Claim.Status.NEEDS_REVIEW, quote
                assert last.match_score < 0.95
        for quote, claim in upcoming.items():
            claim.refresh_from_db()
            assert claim.status == Claim.Status.CURRENT, quote
            assert claim.verifications.first().outcome == Verification.Outcome.CONFIRMED, quote
        claims = upcoming


ADDED = {"These Terms of Use do not apply to You if You use Our Services via a cloud provider"}
