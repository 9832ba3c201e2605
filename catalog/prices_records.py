"""How a genai-prices record reads: the dataset as the import receives it, each provider's
record rendered as the text Atlas stores and quotes, and the records the import refuses.

Kept apart from ``catalog.prices_import`` so the text a quote is found in has one definition.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from catalog.prices_mapping import DATASET_NAME, PLATFORMS


@dataclasses.dataclass
class Dataset:
    version: str
    providers: list[Any]  # genai_prices.types.Provider


def one_line(value: Any) -> str:
    return " ".join(str(value).split())


def _price_value(value: Any) -> str:
    from genai_prices.types import TieredPrices

    if isinstance(value, TieredPrices):
        tiers = ", ".join(f"over {t.start} input tokens: {t.price}" for t in value.tiers)
        return f"{value.base} ({tiers})"
    return str(value)


def _prices_text(prices: Any) -> str:
    items = [
        f"{key}={_price_value(value)}"
        for key, value in vars(prices).items()
        if not key.startswith("_") and value is not None
    ]
    return ", ".join(items)


def price_entries(model: Any) -> list[tuple[Any, Any]]:
    """(constraint, ModelPrice) pairs; the constraint is None for an undated price."""
    from genai_prices.types import ModelPrice

    if isinstance(model.prices, ModelPrice):
        return [(None, model.prices)]
    return [(c.constraint, c.prices) for c in model.prices]


def _constraint_text(constraint: Any) -> str:
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    if isinstance(constraint, StartDateConstraint):
        return f" from {constraint.start_date.isoformat()}"
    if isinstance(constraint, TimeOfDateConstraint):
        return f" between {constraint.start_time} and {constraint.end_time} UTC"
    return ""


def context_line(model_id: str, context_window: int) -> str:
    """The line of a record that states a model's context window (a claim quotes it)."""
    return f"model {model_id} context_window: {context_window}"


def record_text(*, version: str, provider: Any) -> str:
    """The dataset's record of one provider as text, one fact a line, in the dataset's order.

    Deterministic: the same record always gives the same text. Left out: the rules the
    package uses to recognise a provider and to read usage from API responses.
    """
    lines = [f"{DATASET_NAME} {version} (Pydantic, MIT licence): provider {provider.id}"]
    for field in ("name", "description", "price_comments"):
        value = getattr(provider, field, None)
        if value:
            lines.append(f"provider {provider.id} {field}: {one_line(value)}")
    if provider.pricing_urls:
        lines.append(f"provider {provider.id} pricing_urls: {' '.join(provider.pricing_urls)}")
    if provider.fallback_model_providers:
        fallback = ", ".join(provider.fallback_model_providers)
        lines.append(f"provider {provider.id} fallback_model_providers: {fallback}")
    for model in provider.models:
        lines.append("")
        for field in ("name", "description", "price_comments"):
            value = getattr(model, field, None)
            if value:
                lines.append(f"model {model.id} {field}: {one_line(value)}")
        if model.context_window is not None:
            lines.append(context_line(model.id, model.context_window))
        if model.deprecated:
            lines.append(f"model {model.id} deprecated: true")
        for constraint, prices in price_entries(model):
            lines.append(
                f"model {model.id} prices{_constraint_text(constraint)}: {_prices_text(prices)}"
            )
        for variant in model.price_variants or ():
            when = ", ".join(f"{k}={v}" for k, v in sorted(variant.when.items()))
            lines.append(
                f"model {model.id} prices when {when}{_constraint_text(variant.constraint)}: "
                f"{_prices_text(variant.prices)}"
            )
    return "\n".join(lines) + "\n"


def _valid_price(value: Any) -> bool:
    from genai_prices.types import TieredPrices

    if isinstance(value, TieredPrices):
        value = value.base
    return value is None or (isinstance(value, Decimal) and value.is_finite() and value >= 0)


def dataset_problems(dataset: Dataset) -> list[str]:
    """Every record the import cannot use, as "where: field: what is wrong"."""
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    problems: list[str] = []
    if not isinstance(dataset.version, str) or not dataset.version:
        problems.append("dataset: field 'version': missing")
    for p_index, provider in enumerate(dataset.providers):
        pid = getattr(provider, "id", None)
        where = f"providers[{p_index}] (id={pid})"
        if pid not in PLATFORMS:
            problems.append(
                f"{where}: field 'id': unknown provider {pid!r}; map it in PLATFORMS "
                "(catalog/prices_mapping.py)"
            )
            continue
        if not provider.pricing_urls or not str(provider.pricing_urls[0]).startswith("http"):
            problems.append(f"{where}: field 'pricing_urls': no pricing page address")
        seen: set[str] = set()
        for m_index, model in enumerate(provider.models):
            mid = getattr(model, "id", None)
            m_where = f"{where}.models[{m_index}] (id={mid})"
            if not isinstance(mid, str) or not mid.strip():
                problems.append(f"{m_where}: field 'id': missing")
                continue
            if mid.lower() in seen:
                problems.append(f"{m_where}: field 'id': listed twice")
            seen.add(mid.lower())
            window = model.context_window
            if window is not None and (
                isinstance(window, bool) or not isinstance(window, int) or window <= 0
            ):
                problems.append(
                    f"{m_where}: field 'context_window': expected a positive whole number, "
                    f"got {window!r}"
                )
            try:
                entries = price_entries(model)
            except (AttributeError, TypeError):
                problems.append(f"{m_where}: field 'prices': not a price or a list of prices")
                continue
            for constraint, prices in entries:
                if constraint is not None and not isinstance(
                    constraint, StartDateConstraint | TimeOfDateConstraint
                ):
                    problems.append(f"{m_where}: field 'prices': unknown constraint {constraint!r}")
                if isinstance(constraint, StartDateConstraint) and not isinstance(
                    constraint.start_date, dt.date
                ):
                    problems.append(
                        f"{m_where}: field 'prices': start date {constraint.start_date!r} "
                        "is not a date"
                    )
                for key in ("input_mtok", "output_mtok"):
                    value = getattr(prices, key, None)
                    if not _valid_price(value):
                        problems.append(
                            f"{m_where}: field 'prices.{key}': expected a non-negative "
                            f"number, got {value!r}"
                        )
    return problems
