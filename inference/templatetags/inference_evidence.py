from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def as_json(value: Any) -> str:
    """Evidence as indented JSON, the way the endpoint saw it."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@register.filter
def finding_label(value: str) -> str:
    labels = {
        "supported": "works",
        "unsupported": "does not work",
        "inconclusive": "could not tell",
        "error": "call failed",
        "not_run": "not tried",
        "refused": "refused",
        "truncated": "truncated",
        "accepted": "accepted",
        "accepts_tools": "the API accepts a forced tool",
        "chooses_tool": "the model picks the tool by itself",
    }
    return labels.get(str(value), str(value).replace("_", " "))
