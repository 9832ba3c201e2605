"""The catalogue's vocabularies: every closed set of values a field may take.

Each is a ``TextChoices``; the models use them for their fields and check constraints (see
``catalog.models.in_choices``), and the loader, filters, forms and API accept only these values.
"""

from __future__ import annotations

from django.db import models


class Ternary(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    CONDITIONAL = "conditional", "Under conditions"
    UNKNOWN = "unknown", "Unknown"


class ProviderKind(models.TextChoices):
    MODEL_DEVELOPER = "model_developer", "Model developer"
    API_PLATFORM = "api_platform", "API / developer platform"
    HOSTING_LAYER = "hosting_layer", "Hosting layer / aggregator"


class ProviderStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DEPRECATED = "deprecated", "Deprecated"
    DEFUNCT = "defunct", "Defunct"


class LicenceKind(models.TextChoices):
    PERMISSIVE = "permissive", "Permissive open source"
    OPEN_WEIGHTS_RESTRICTED = "open_weights_restricted", "Open weights with use restrictions"
    RESEARCH_ONLY = "research_only", "Research / non-production only"
    PROPRIETARY = "proprietary", "Proprietary terms"


class LicenceTermKey(models.TextChoices):
    """The obligations of an AI licence that decide whether it may be used, each recorded
    with the licence's own words (``catalog.models.LicenceTerm``)."""

    COMMERCIAL_USE = "commercial_use", "Commercial use"
    USER_THRESHOLD = "user_threshold", "User or revenue threshold"
    ACCEPTABLE_USE_POLICY = "acceptable_use_policy", "Acceptable-use policy incorporated"
    ATTRIBUTION = "attribution", "Attribution and naming of derivatives"
    OUTPUTS_TRAINING = "outputs_training", "Use of outputs to train other models"
    WEIGHT_REDISTRIBUTION = "weight_redistribution", "Redistribution of weights"
    RESEARCH_ONLY = "research_only", "Research / non-production only"


class AIModelWeights(models.TextChoices):
    OPEN = "open", "Open weights"
    API_ONLY = "api_only", "API only"
    UNKNOWN = "unknown", "Not recorded"


class AIModelArchitecture(models.TextChoices):
    DENSE = "dense", "Dense"
    MOE = "moe", "Mixture of experts"
    UNKNOWN = "unknown", "Not recorded"


class SourceDocType(models.TextChoices):
    TERMS = "terms", "Terms of service"
    PRIVACY = "privacy", "Privacy policy"
    DPA = "dpa", "Data processing agreement"
    DOCUMENTATION = "documentation", "Documentation"
    MODEL_CARD = "model_card", "Model card"
    LICENCE_TEXT = "licence_text", "Licence text"
    HELP_ARTICLE = "help_article", "Help article"
    PRICING = "pricing", "Pricing page"
    PRESS = "press", "Press / announcement"
    PRODUCT_PAGE = "product_page", "Product page"
    DIRECTORY = "directory", "Third-party directory or review"


class ClaimKeyGroup(models.TextChoices):
    RIGHT = "right", "Right"
    CONSTRAINT = "constraint", "Constraint"
    CAPABILITY = "capability", "Capability"
    DATA_PROTECTION = "data_protection", "Data protection"
    COMMERCIAL = "commercial", "Commercial"

    @property
    def plural(self) -> str:
        """The heading over the group's claims."""
        return CLAIM_KEY_GROUP_PLURALS[self.value]


CLAIM_KEY_GROUP_PLURALS = {
    "right": "Rights",
    "constraint": "Constraints",
    "capability": "Capabilities",
    "data_protection": "Data protection",
    "commercial": "Commercial terms",
}


class ClaimKeyValueType(models.TextChoices):
    FLAG = "flag", "yes / no / partial / unknown"
    NUMBER = "number", "Number with a unit"
    TEXT = "text", "Short text"


class ClaimFlag(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    PARTIAL = "partial", "Partial"
    UNKNOWN = "unknown", "Unknown"


class ClaimSurface(models.TextChoices):
    ANY = "any", "Any"
    API = "api", "API"
    CONSUMER_APP = "consumer_app", "Consumer app"
    SELF_HOSTED = "self_hosted", "Self-hosted weights"
    ENTERPRISE = "enterprise", "Enterprise contract"


class ClaimStatus(models.TextChoices):
    CURRENT = "current", "Current"
    NEEDS_REVIEW = "needs_review", "Needs review"
    DISPUTED = "disputed", "Disputed"
    RETIRED = "retired", "Retired"


class VerificationMethod(models.TextChoices):
    MANUAL = "manual", "Manual review"
    SOURCE_CHECK = "source_check", "Source re-check"
    INFERENCE_PROBE = "inference_probe", "Inference probe"
    MODEL_JUDGE = "model_judge", "Model as judge (advisory)"


class VerificationOutcome(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CONTRADICTED = "contradicted", "Contradicted"
    # The quote's passage is there, but not its exact words (crawlers.matching): a curator
    # decides, since one word there can be a negation, a modal verb or a number.
    CHANGED_WORDING = "changed_wording", "Changed wording"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    ERROR = "error", "Error"
