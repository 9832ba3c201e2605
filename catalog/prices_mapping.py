"""How the genai-prices dataset's providers and model names map onto Atlas's providers.

The one place where the dataset's words become Atlas's: read by ``catalog.prices_import``.

- ``PLATFORMS``: every provider of the dataset (its ``id``) and the Atlas provider it is. A
  price the dataset lists there for a model of that provider's own is the developer's price
  (tier ``own_tier``, blank for the developer's main API); a price it lists there for another
  developer's model is that developer's model with this platform's price (tier ``label``).
  A dataset provider missing here stops the import, naming it.
- ``DEVELOPERS``: Atlas providers the import may create when the catalogue files do not
  define them (name and kind). Providers the catalogue files define are never changed.
- ``ORG_PREFIXES``: who developed a model, from the organisation in a listing's identifier
  (``meta-llama/Llama-3.3-70B-Instruct``, ``anthropic.claude-3-haiku`` on Bedrock).
- ``NAME_PATTERNS``: who developed a model, from a bare identifier (``gpt-4o``, ``claude-3``).

A listing whose developer neither table names is not imported (the command counts them): an
aggregator is never taken for the developer of what it resells.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.choices import ProviderKind

DATASET_NAME = "genai-prices"
DATASET_PUBLISHER = "genai-prices (Pydantic)"


@dataclass(frozen=True)
class Platform:
    slug: str  # the Atlas provider
    label: str  # the tier naming this platform on another developer's model
    own_tier: str = ""  # the tier of the developer's own models listed here
    # Prefixes the platform puts before every identifier, removed before reading the rest.
    strip: tuple[str, ...] = ()
    # A bare identifier listed here is this provider's own model when no pattern names
    # another developer (a model developer's own API); never so for a pure platform.
    developer: bool = False
    # Bedrock names the organisation before a dot: "anthropic.claude-3-haiku-…".
    org_dot: bool = False


def _hf(suffix: str) -> Platform:
    return Platform("hugging-face", f"Hugging Face ({suffix})", own_tier=f"Hugging Face ({suffix})")


PLATFORMS: dict[str, Platform] = {
    "anthropic": Platform("anthropic", "Anthropic API", developer=True),
    "arcee": Platform("arcee-ai", "Arcee", developer=True),
    "avian": Platform("avian", "Avian"),
    "aws": Platform("amazon-bedrock", "Amazon Bedrock", own_tier="Amazon Bedrock", org_dot=True),
    "azure": Platform("microsoft", "Microsoft Azure"),
    "baseten": Platform("baseten", "Baseten"),
    "cerebras": Platform("cerebras", "Cerebras"),
    "cloudflare": Platform("cloudflare", "Cloudflare Workers AI", strip=("@cf/", "@hf/")),
    "cohere": Platform("cohere", "Cohere API", developer=True),
    "cursor": Platform("cursor", "Cursor", developer=True),
    "databricks": Platform("databricks", "Databricks", strip=("databricks-",)),
    "deepseek": Platform("deepseek", "DeepSeek API", developer=True),
    "doubleword": Platform("doubleword", "Doubleword"),
    "elevenlabs": Platform("elevenlabs", "ElevenLabs API", developer=True),
    "fireworks": Platform("fireworks-ai", "Fireworks AI", strip=("accounts/fireworks/models/",)),
    "github-copilot": Platform("github", "GitHub Copilot"),
    "google": Platform("google", "Google Cloud", developer=True),
    "groq": Platform("groq", "Groq"),
    "huggingface_cerebras": _hf("Cerebras"),
    "huggingface_fireworks-ai": _hf("Fireworks AI"),
    "huggingface_groq": _hf("Groq"),
    "huggingface_hyperbolic": _hf("Hyperbolic"),
    "huggingface_nebius": _hf("Nebius"),
    "huggingface_novita": _hf("Novita"),
    "huggingface_nscale": _hf("Nscale"),
    "huggingface_ovhcloud": _hf("OVHcloud"),
    "huggingface_publicai": _hf("Public AI"),
    "huggingface_sambanova": _hf("SambaNova"),
    "huggingface_together": _hf("Together"),
    "meta": Platform("meta", "Meta API", developer=True),
    "minimax": Platform("minimax", "MiniMax API", developer=True),
    "mistral": Platform("mistral", "Mistral API", developer=True),
    "modal": Platform("modal", "Modal"),
    "moonshotai": Platform("moonshot-ai", "Moonshot AI API", developer=True),
    "novita": Platform("novita", "Novita AI"),
    "openai": Platform("openai", "OpenAI API", developer=True),
    "openai-decisions": Platform(
        "openai", "OpenAI Decisions API", own_tier="Decisions API", developer=True
    ),
    "openrouter": Platform("openrouter", "OpenRouter"),
    "ovhcloud": Platform("ovhcloud", "OVHcloud AI Endpoints"),
    "perplexity": Platform("perplexity", "Perplexity API", strip=("perplexity/",), developer=True),
    "quicksilverpro": Platform("quicksilver-pro", "QuickSilver Pro"),
    "together": Platform("together-ai", "Together AI"),
    "typesafe": Platform("typesafe", "TypeSafe", developer=True),
    "voyageai": Platform("voyage-ai", "Voyage AI API", developer=True),
    "x-ai": Platform("xai", "xAI API", developer=True),
    "zai": Platform("zhipu-ai", "Z.ai API", developer=True),
    "zhipuai": Platform("zhipu-ai", "bigmodel.cn", own_tier="bigmodel.cn", developer=True),
}

# Providers the import creates when no catalogue file defines them: (name, kind).
DEVELOPERS: dict[str, tuple[str, str]] = {
    "amazon": ("Amazon", ProviderKind.MODEL_DEVELOPER),
    "amazon-bedrock": ("Amazon Bedrock", ProviderKind.API_PLATFORM),
    "anthropic": ("Anthropic", ProviderKind.MODEL_DEVELOPER),
    "arcee-ai": ("Arcee AI", ProviderKind.MODEL_DEVELOPER),
    "avian": ("Avian", ProviderKind.HOSTING_LAYER),
    "baseten": ("Baseten", ProviderKind.HOSTING_LAYER),
    "cerebras": ("Cerebras", ProviderKind.HOSTING_LAYER),
    "cloudflare": ("Cloudflare Workers AI", ProviderKind.HOSTING_LAYER),
    "cohere": ("Cohere", ProviderKind.MODEL_DEVELOPER),
    "databricks": ("Databricks", ProviderKind.HOSTING_LAYER),
    "doubleword": ("Doubleword", ProviderKind.HOSTING_LAYER),
    "elevenlabs": ("ElevenLabs", ProviderKind.MODEL_DEVELOPER),
    "groq": ("Groq", ProviderKind.HOSTING_LAYER),
    "hugging-face": ("Hugging Face", ProviderKind.API_PLATFORM),
    "ibm": ("IBM", ProviderKind.MODEL_DEVELOPER),
    "minimax": ("MiniMax", ProviderKind.MODEL_DEVELOPER),
    "modal": ("Modal", ProviderKind.HOSTING_LAYER),
    "novita": ("Novita AI", ProviderKind.HOSTING_LAYER),
    "nvidia": ("NVIDIA", ProviderKind.MODEL_DEVELOPER),
    "openai": ("OpenAI", ProviderKind.MODEL_DEVELOPER),
    "openrouter": ("OpenRouter", ProviderKind.API_PLATFORM),
    "ovhcloud": ("OVHcloud", ProviderKind.HOSTING_LAYER),
    "quicksilver-pro": ("QuickSilver Pro", ProviderKind.API_PLATFORM),
    "tencent": ("Tencent", ProviderKind.MODEL_DEVELOPER),
    "typesafe": ("TypeSafe", ProviderKind.MODEL_DEVELOPER),
    "voyage-ai": ("Voyage AI", ProviderKind.MODEL_DEVELOPER),
    "xiaomi": ("Xiaomi", ProviderKind.MODEL_DEVELOPER),
    "zhipu-ai": ("Zhipu AI (Z.ai)", ProviderKind.MODEL_DEVELOPER),
    "alibaba-qwen": ("Alibaba Qwen", ProviderKind.MODEL_DEVELOPER),
    "mistral": ("Mistral AI", ProviderKind.MODEL_DEVELOPER),
    # Defined by the catalogue files today; named here so a fresh import stands alone.
    "ai21-labs": ("AI21 Labs", ProviderKind.MODEL_DEVELOPER),
    "baidu": ("Baidu", ProviderKind.MODEL_DEVELOPER),
    "bytedance": ("ByteDance", ProviderKind.MODEL_DEVELOPER),
    "cursor": ("Cursor", ProviderKind.API_PLATFORM),
    "deepseek": ("DeepSeek", ProviderKind.MODEL_DEVELOPER),
    "fireworks-ai": ("Fireworks AI", ProviderKind.HOSTING_LAYER),
    "github": ("GitHub", ProviderKind.API_PLATFORM),
    "google": ("Google", ProviderKind.MODEL_DEVELOPER),
    "liquid-ai": ("Liquid AI", ProviderKind.MODEL_DEVELOPER),
    "meta": ("Meta", ProviderKind.MODEL_DEVELOPER),
    "microsoft": ("Microsoft", ProviderKind.MODEL_DEVELOPER),
    "moonshot-ai": ("Moonshot AI", ProviderKind.MODEL_DEVELOPER),
    "nous-research": ("Nous Research", ProviderKind.MODEL_DEVELOPER),
    "perplexity": ("Perplexity", ProviderKind.API_PLATFORM),
    "together-ai": ("Together AI", ProviderKind.HOSTING_LAYER),
    "xai": ("xAI", ProviderKind.MODEL_DEVELOPER),
}

# The organisation an identifier names before its first "/" (or "." on Bedrock).
ORG_PREFIXES: dict[str, str] = {
    "ai21": "ai21-labs",
    "alibaba": "alibaba-qwen",
    "amazon": "amazon",
    "anthropic": "anthropic",
    "arcee-ai": "arcee-ai",
    "baidu": "baidu",
    "bytedance": "bytedance",
    "bytedance-research": "bytedance",
    "bytedance-seed": "bytedance",
    "cohere": "cohere",
    "coherelabs": "cohere",
    "deepseek": "deepseek",
    "deepseek-ai": "deepseek",
    "google": "google",
    "ibm-granite": "ibm",
    "liquid": "liquid-ai",
    "liquidai": "liquid-ai",
    "meta": "meta",
    "meta-llama": "meta",
    "meta-models": "meta",
    "microsoft": "microsoft",
    "minimax": "minimax",
    "minimaxai": "minimax",
    "mistral": "mistral",
    "mistralai": "mistral",
    "moonshotai": "moonshot-ai",
    "nousresearch": "nous-research",
    "nvidia": "nvidia",
    "openai": "openai",
    "qwen": "alibaba-qwen",
    "tencent": "tencent",
    "thudm": "zhipu-ai",
    "x-ai": "xai",
    "xai": "xai",
    "xiaomi": "xiaomi",
    "z-ai": "zhipu-ai",
    "zai": "zhipu-ai",
    "zai-org": "zhipu-ai",
}

# For bare identifiers, first match wins: the more specific names come first
# ("deepseek-r1-distill-llama" is DeepSeek's, "llama-3.1-sonar" Perplexity's).
NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), slug)
    for pattern, slug in (
        (r"deepseek", "deepseek"),
        (r"sonar", "perplexity"),
        (r"nemotron", "nvidia"),
        (r"^(claude|anthropic)", "anthropic"),
        (
            r"^(gpt|o[134]($|-)|chatgpt|dall-e|davinci|babbage|curie|ada($|-)|text-embedding"
            r"|whisper|tts-|codex|omni-moderation|text-moderation|computer-use|sora)",
            "openai",
        ),
        (r"^(gemini|gemma|imagen|veo|learnlm)", "google"),
        (r"(^|-)llama|^muse-", "meta"),
        (r"mistral|mixtral|codestral|pixtral|ministral|magistral|devstral|voxtral", "mistral"),
        (r"qwen|qwq", "alibaba-qwen"),
        (r"grok", "xai"),
        (r"kimi|moonshot", "moonshot-ai"),
        (r"glm", "zhipu-ai"),
        (r"^(command|c4ai-aya|aya-|embed-(v|english|multilingual)|rerank-)", "cohere"),
        (r"minimax", "minimax"),
        (r"^(nova|titan)-", "amazon"),
        (r"^jamba", "ai21-labs"),
        (r"^(phi-|mai-)", "microsoft"),
        (r"^ernie", "baidu"),
        (r"^(doubao|seed-)", "bytedance"),
        (r"^voyage", "voyage-ai"),
        (r"^eleven_", "elevenlabs"),
        (r"^composer", "cursor"),
    )
)

# A bare identifier naming a third party's fine-tune of a known model ("dolphin-mixtral",
# "hermes-2-pro-llama-3-8b", "llama3-groq-70b-tool-use"): its developer is not the base
# model's, and the identifier does not say whose it is, so it is not imported.
FINE_TUNES = re.compile(
    r"dolphin|hermes|lumimaid|eva-|dobby|shisa|typhoon|arliai|chimera|-groq-|sea-?lion|swallow"
    r"|stheno|mythomax|wizardlm|magnum|rocinante|noromaid|toppy|euryale|airoboros|capybara"
    r"|nexusraven|chronos|starcannon|unslop|anubis|cydonia|skyfall|goliath|midnight|openchat"
    r"|zephyr|deepcoder"
)

# Bedrock's cross-region prefixes, before the organisation: "us.anthropic.claude-…".
BEDROCK_REGIONS = ("us.", "eu.", "apac.", "global.", "regional.", "jp.", "au.", "ca.", "us-gov.")
