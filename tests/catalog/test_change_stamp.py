"""The stamps the home page's figures and the finder's cached check are kept under."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import Claim
from catalog.requirements.check import _check_stamp
from catalog.selectors.home import _catalogue_stamp

pytestmark = pytest.mark.django_db


def test_a_saved_claim_moves_both_stamps(seeded_catalogue):
    figures, check = _catalogue_stamp(), _check_stamp()
    claim = Claim.objects.order_by("pk").first()
    claim.condition = f"{claim.condition} (re-read)"
    claim.save()
    assert _catalogue_stamp() != figures
    assert _check_stamp() != check


def test_a_stamp_does_not_move_without_a_write(seeded_catalogue):
    assert _catalogue_stamp() == _catalogue_stamp()
    assert _check_stamp() == _check_stamp()


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_bulk_update_moves_the_stamps_at_once():
    if connection.vendor != "postgresql":
        pytest.skip("the commit-time change-stamp triggers exist on PostgreSQL only")
    from django.core.management import call_command

    call_command("load_catalogue", verbosity=0)
    figures, check = _catalogue_stamp(), _check_stamp()
    # A bulk update() saves no row, so no updated_at moves: only the triggers see it.
    Claim.objects.filter(pk=Claim.objects.order_by("pk").values("pk")[:1]).update(
        condition="changed in bulk"
    )
    assert _catalogue_stamp() != figures
    assert _check_stamp() != check
