"""Deterministic, realistic bot configurations for benchmarks.

``make_bot_config(target_bytes, seed)`` builds the kind of document a support or sales
bot is configured with (LLM settings, prompts, tools with JSON-schema parameters,
memory, retrieval, routing, feature flags) and grows its lists until the compact JSON
reaches the target size. ``mutate(config, fraction, seed)`` returns an edited copy, as
a person or a deploy script would produce between two versions.
"""

from __future__ import annotations

import json
import random
from typing import Any

__all__ = ["config_size", "make_bot_config", "mutate"]

_WORD_TEXT = (
    "account billing customer order refund invoice shipping delivery product support "
    "escalate agent policy warranty subscription plan upgrade cancel password reset "
    "login email address payment card balance discount coupon return exchange store "
    "inventory stock availability tracking status ticket priority urgent summary answer "
    "question context document knowledge source search index relevant helpful concise "
    "polite friendly accurate verify confirm identity language region currency tax"
)
WORDS = _WORD_TEXT.split()
PROVIDERS = {
    "openai": ["gpt-4o", "gpt-4o-mini", "gpt-4.1"],
    "anthropic": ["claude-3-5-sonnet", "claude-3-haiku", "claude-3-opus"],
    "mistral": ["mistral-large", "mistral-small"],
}
PARAM_TYPES = ("string", "integer", "number", "boolean")
INTENTS = ("billing", "shipping", "returns", "technical", "sales", "account", "feedback")
LOCALES = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "pt-BR", "ja-JP", "hu-HU")


def config_size(config: Any) -> int:
    """Bytes of compact UTF-8 JSON, the measure the store's size limit uses."""
    return len(json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode())


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _sentence(rng: random.Random, low: int = 6, high: int = 18) -> str:
    return _words(rng, low, high).capitalize() + "."


def _slug(rng: random.Random, parts: int = 2) -> str:
    return "_".join(rng.choice(WORDS) for _ in range(parts))


def _tool(rng: random.Random, index: int) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(PARAM_TYPES)
        prop: dict[str, Any] = {"type": kind, "description": _sentence(rng, 4, 10)}
        if kind == "string" and rng.random() < 0.3:
            prop["enum"] = sorted({rng.choice(WORDS) for _ in range(rng.randint(2, 5))})
        if kind == "integer":
            prop["minimum"] = 0
            prop["maximum"] = rng.choice([10, 100, 1000])
        properties[_slug(rng)] = prop
    required = sorted(rng.sample(sorted(properties), k=rng.randint(0, len(properties))))
    return {
        "name": f"{_slug(rng)}_{index}",
        "description": _sentence(rng, 8, 24),
        "enabled": rng.random() < 0.9,
        "timeout_seconds": rng.choice([5, 10, 15, 30, 60]),
        "retries": rng.randint(0, 3),
        "endpoint": f"https://api.example.com/v{rng.randint(1, 3)}/{_slug(rng, 1)}/{index}",
        "auth": {"type": rng.choice(["bearer", "api_key", "none"]), "secret_ref": _slug(rng)},
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
        "rate_limit": {"per_minute": rng.choice([30, 60, 120, 600]), "burst": rng.randint(1, 20)},
    }


def _few_shot(rng: random.Random) -> dict[str, Any]:
    turns = [
        {"role": role, "content": _sentence(rng, 8, 40)}
        for role in ("user", "assistant") * rng.randint(1, 3)
    ]
    return {"intent": rng.choice(INTENTS), "locale": rng.choice(LOCALES), "messages": turns}


def _knowledge_source(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "id": f"ks-{index:05d}",
        "title": _words(rng, 2, 6).title(),
        "url": f"https://help.example.com/articles/{index}-{_slug(rng, 3).replace('_', '-')}",
        "type": rng.choice(["faq", "article", "pdf", "sitemap", "notion"]),
        "tags": sorted({rng.choice(WORDS) for _ in range(rng.randint(1, 5))}),
        "refresh_hours": rng.choice([6, 12, 24, 168]),
        "weight": round(rng.uniform(0.1, 2.0), 2),
        "active": rng.random() < 0.95,
    }


def _routing_rule(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "id": f"rule-{index}",
        "priority": rng.randint(1, 100),
        "when": {
            "intent": rng.choice(INTENTS),
            "confidence_below": round(rng.uniform(0.3, 0.9), 2),
            "keywords": [rng.choice(WORDS) for _ in range(rng.randint(0, 4))],
        },
        "then": {"action": rng.choice(["handoff", "tool", "reply", "tag"]), "target": _slug(rng)},
    }


def _skeleton(rng: random.Random) -> dict[str, Any]:
    provider = rng.choice(sorted(PROVIDERS))
    return {
        "name": "SupportBot",
        "description": _sentence(rng),
        "version_label": f"2025.{rng.randint(1, 12)}.{rng.randint(0, 30)}",
        "llm": {
            "provider": provider,
            "model": rng.choice(PROVIDERS[provider]),
            "temperature": round(rng.uniform(0, 1), 2),
            "top_p": 1.0,
            "max_tokens": rng.choice([512, 1024, 2048, 4096]),
            "stop": ["\nUser:", "\nHuman:"],
            "fallback": {"provider": "openai", "model": "gpt-4o-mini", "on_errors": [429, 500]},
        },
        "prompts": {
            "system": " ".join(_sentence(rng, 10, 30) for _ in range(12)),
            "greeting": _sentence(rng),
            "fallback_reply": _sentence(rng),
            "few_shot": [],
        },
        "tools": [],
        "memory": {
            "type": "summary_buffer",
            "max_turns": 20,
            "summary_model": "gpt-4o-mini",
            "ttl_hours": 72,
            "redact": ["email", "phone", "card_number"],
        },
        "retrieval": {
            "enabled": True,
            "indexes": [
                {"name": f"{name}-index", "dimensions": 1536, "metric": "cosine", "top_k": k}
                for name, k in (("faq", 4), ("articles", 6), ("policies", 3))
            ],
            "chunking": {"strategy": "recursive", "chunk_size": 800, "overlap": 120},
            "reranker": {"enabled": True, "model": "rerank-v3", "top_n": 5},
            "knowledge_sources": [],
        },
        "routing": {"default": "answer", "rules": []},
        "feature_flags": {
            flag: rng.random() < 0.5
            for flag in (
                "streaming",
                "citations",
                "sentiment_tracking",
                "auto_handoff",
                "multilingual",
                "pii_redaction",
                "tool_parallelism",
                "beta_voice",
            )
        },
        "guardrails": {
            "blocked_topics": ["medical advice", "legal advice"],
            "max_reply_chars": 2000,
            "moderation": {"provider": "openai", "threshold": 0.8},
        },
        "channels": {
            "web": {"enabled": True, "theme": {"primary": "#3355ff", "position": "right"}},
            "slack": {"enabled": False, "workspace": None},
            "email": {"enabled": True, "from": "support@example.com"},
        },
        "locales": list(LOCALES[:4]),
    }


def make_bot_config(target_bytes: int, seed: int = 0) -> dict[str, Any]:
    """A realistic bot config of about ``target_bytes`` (compact JSON), same for a seed."""
    rng = random.Random(seed)
    config = _skeleton(rng)
    growers = [
        (config["tools"], _tool, 3),
        (config["prompts"]["few_shot"], lambda r, _i: _few_shot(r), 2),
        (config["retrieval"]["knowledge_sources"], _knowledge_source, 4),
        (config["routing"]["rules"], _routing_rule, 1),
    ]
    # Track the size incrementally: re-encoding the whole config per element would be
    # quadratic. Each element costs its own bytes plus one comma.
    size = config_size(config)
    while size < target_bytes:
        for target, build, share in growers:
            for _ in range(share):
                element = build(rng, len(target))
                target.append(element)
                size += config_size(element) + 1
                if size >= target_bytes:
                    return config
    return config


# Mutation ---------------------------------------------------------------------------

Slot = tuple[Any, Any]  # (container, key or index)


def _walk(value: Any, leaves: list[Slot], lists: list[list[Any]], dicts: list[Any]) -> None:
    if isinstance(value, dict):
        dicts.append(value)
        for key, child in value.items():
            if isinstance(child, dict | list):
                _walk(child, leaves, lists, dicts)
            else:
                leaves.append((value, key))
    elif isinstance(value, list):
        lists.append(value)
        for index, child in enumerate(value):
            if isinstance(child, dict | list):
                _walk(child, leaves, lists, dicts)
            else:
                leaves.append((value, index))


def _edit_leaf(rng: random.Random, value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.randint(1, 9)
    if isinstance(value, float):
        return round(value * rng.uniform(0.5, 1.5) + 0.01, 3)
    if isinstance(value, str):
        words = value.split(" ")
        words[rng.randrange(len(words))] = rng.choice(WORDS)
        edited = " ".join(words)
        return edited if edited != value else value + " " + rng.choice(WORDS)
    return rng.choice(WORDS)


def _new_element(rng: random.Random, siblings: list[Any]) -> Any:
    if not siblings:
        return rng.choice(WORDS)
    model = rng.choice(siblings)
    if not isinstance(model, dict | list):
        return _edit_leaf(rng, model)
    # A copy of a sibling with a few edits reads like a newly added tool or example.
    element = json.loads(json.dumps(model))
    leaves: list[Slot] = []
    _walk(element, leaves, [], [])
    for container, key in rng.sample(leaves, k=min(3, len(leaves))):
        container[key] = _edit_leaf(rng, container[key])
    return element


def mutate(config: dict[str, Any], fraction: float, seed: int = 0) -> dict[str, Any]:
    """A deep copy of ``config`` with about ``fraction`` of its leaves and elements edited.

    The mix: 55% leaf edits, 15% list insertions, 15% list removals, 10% new keys and
    5% removed keys. Slots are collected once, so an edit may land in a subtree an
    earlier removal detached; at 1% that is rare and the count stays "about".
    """
    rng = random.Random(seed)
    copied: dict[str, Any] = json.loads(json.dumps(config))
    leaves: list[Slot] = []
    lists: list[list[Any]] = []
    dicts: list[Any] = []
    _walk(copied, leaves, lists, dicts)
    wanted = max(1, round(fraction * (len(leaves) + sum(map(len, lists)))))
    done = attempts = 0
    while done < wanted and attempts < wanted * 20:
        attempts += 1
        roll = rng.random()
        if roll < 0.55:
            container, key = rng.choice(leaves)
            if key not in container if isinstance(container, dict) else key >= len(container):
                continue  # removed by an earlier edit
            current = container[key]
            if isinstance(current, dict | list):  # an index shifted by an insertion
                continue
            container[key] = _edit_leaf(rng, current)
        elif roll < 0.70:
            target = rng.choice(lists)
            target.insert(rng.randint(0, len(target)), _new_element(rng, target))
        elif roll < 0.85:
            target = rng.choice(lists)
            if not target:
                continue
            del target[rng.randrange(len(target))]
        elif roll < 0.95:
            mapping = rng.choice(dicts)
            mapping[f"{_slug(rng)}_{rng.randint(0, 999)}"] = rng.choice(
                [_sentence(rng), rng.randint(0, 100), rng.random() < 0.5, None, {"note": "x"}]
            )
        else:
            mapping = rng.choice(dicts)
            if len(mapping) < 2 or mapping is copied:
                continue
            del mapping[rng.choice(sorted(mapping))]
        done += 1
    return copied
