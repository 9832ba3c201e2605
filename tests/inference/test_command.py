from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Verification
from tests.inference.testserver import ServedModel


def probe(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("probe", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_probes_the_testable_claims_of_a_provider(acme_server, make_endpoint, acme_claim):
    make_endpoint(acme_server)
    acme_claim("json_mode")
    acme_claim("streaming", flag="no")
    acme_claim("commercial_use_allowed")
    out, _ = probe("--provider", "acme-ai")
    assert "json_mode = Yes: confirmed" in out
    assert "streaming = No: contradicted" in out
    assert "commercial_use_allowed" not in out
    assert "2 claim(s): 1 confirmed, 1 contradicted" in out
    assert Verification.objects.count() == 2


def test_a_single_untestable_claim_is_reported_as_such(acme_server, make_endpoint, acme_claim):
    make_endpoint(acme_server)
    claim = acme_claim("commercial_use_allowed")
    out, _ = probe("--claim", str(claim.pk))
    assert "not_testable" in out and "source" in out


def test_costly_probes_run_only_when_asked(acme_server, make_endpoint, acme_claim):
    make_endpoint(acme_server)
    claim = acme_claim("context_window", number=1000)
    out, _ = probe("--claim", str(claim.pk), "--endpoint", "acme-api")
    assert "not_run" in out
    out, _ = probe("--claim", str(claim.pk), "--endpoint", "acme-api", "--costly")
    assert "confirmed" in out
    assert claim.verifications.get().evidence["findings"]["over"] == "refused"


def test_unknown_names_are_clear_errors(db):
    with pytest.raises(CommandError, match="No endpoint named 'nope'"):
        probe("--endpoint", "nope")
    with pytest.raises(CommandError, match="No provider with slug"):
        probe("--provider", "nope")
    with pytest.raises(CommandError, match="No claim with id 999"):
        probe("--claim", "999")


def test_a_budget_stop_is_reported(acme_server, make_endpoint, acme_claim):
    make_endpoint(acme_server, max_requests=1)
    acme_claim("api_available")
    acme_claim("json_mode")
    out, err = probe()
    assert "stopped" in out and "request budget of 1 is used up" in out
    assert "budget" in err


def test_it_asks_the_judge_about_a_passage_file(serve, make_endpoint, acme_claim, tmp_path):
    server = serve(
        models=[
            ServedModel(
                id="acme-large-latest",
                json_reply={"verdict": "supports", "quote": "JSON mode is on.", "reason": "r"},
            )
        ]
    )
    make_endpoint(server)
    claim = acme_claim("json_mode")
    passage = tmp_path / "passage.txt"
    passage.write_text("Intro. JSON mode is on. Outro.")
    out, _ = probe("--claim", str(claim.pk), "--judge", str(passage), "--endpoint", "acme-api")
    assert "advisory reading: supports" in out and "relied on: JSON mode is on." in out


def test_the_embedded_model_is_there_without_configuration(db):
    from inference.models import Endpoint

    endpoint = Endpoint.objects.get(name="embedded-smollm2")
    assert endpoint.kind == Endpoint.Kind.EMBEDDED_LOCAL
    assert endpoint.default_model == "smollm2-135m-instruct"
