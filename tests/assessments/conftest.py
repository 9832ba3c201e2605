"""A second curator and a submitted assessment of Mistral AI, shared by the moderation tests.

Mistral AI on the seeded catalogue (``mistral``) and the characters are the suite's own, from
``tests/conftest.py``.
"""

from __future__ import annotations

import pytest

from assessments.models import Assessment
from assessments.services.assessments import assessment_start, assessment_submit
from tests.factories import amend_one_criterion, make_user


@pytest.fixture
def second_curator(db):
    return make_user("cora-curator", "curator")


@pytest.fixture
def submission(mistral, reviewer) -> Assessment:
    draft = assessment_start(author=reviewer, provider=mistral)
    amend_one_criterion(draft)
    draft.refresh_from_db()
    return assessment_submit(assessment=draft, author=reviewer, revision=draft.revision)
