"""A site validator, as a host project would write one (``CONFIG_VERSIONS["VALIDATORS"]``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from config_versions.core.diff import pointer

if TYPE_CHECKING:
    from config_versions.models import BotConfig

# Keys whose value would be a credential. Configs name the environment variable that
# holds it instead ("api_key_env": "OPENAI_API_KEY"): history is kept forever and shown
# to every staff user, so a secret written into one version could never be removed.
SECRET_KEYS = frozenset({"api_key", "apikey", "secret", "client_secret", "password", "token"})


def reject_inline_secrets(config: dict[str, Any], bot_config: BotConfig) -> None:
    paths = sorted(_secret_paths(config, ()))
    if paths:
        raise ValidationError(
            [
                ValidationError(
                    "%(path)s: credentials must not be stored in a config; name the "
                    "environment variable that holds it (e.g. api_key_env) instead.",
                    code="inline_secret",
                    params={"path": path},
                )
                for path in paths
            ]
        )


def _secret_paths(value: Any, tokens: tuple[str | int, ...]) -> list[str]:
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if key.lower() in SECRET_KEYS and isinstance(item, str) and item:
                found.append(pointer(*tokens, key))
            else:
                found.extend(_secret_paths(item, (*tokens, key)))
        return found
    if isinstance(value, list):
        return [path for i, item in enumerate(value) for path in _secret_paths(item, (*tokens, i))]
    return []
