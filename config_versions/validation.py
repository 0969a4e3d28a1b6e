"""Validators run on every new version: the config's JSON Schema and the site's own."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import jsonschema
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

from config_versions import conf
from config_versions.core.diff import pointer

if TYPE_CHECKING:
    from config_versions.models import BotConfig

Validator = Callable[[dict[str, Any]], None]


def check_schema(schema: Any) -> None:
    """Raise ValidationError if ``schema`` is not a usable JSON Schema."""
    if not isinstance(schema, dict | bool):
        raise ValidationError({"schema": "A JSON Schema must be an object (or true/false)."})
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)  # type: ignore[arg-type] # booleans are schemas
    except jsonschema.SchemaError as exc:
        where = pointer(*exc.absolute_path) or "/"
        raise ValidationError(
            {"schema": f"Invalid JSON Schema at {where}: {exc.message}"}
        ) from None


def validate_against_schema(schema: dict[str, Any] | bool, config: dict[str, Any]) -> None:
    """Raise one ValidationError listing every place where ``config`` breaks ``schema``.

    Each message starts with the JSON Pointer of the offending value; the pointers are
    also in ``error.params["paths"]`` for callers that want them apart.
    """
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    problems = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if not problems:
        return
    paths = [pointer(*error.absolute_path) or "/" for error in problems]
    messages = [
        ValidationError(
            "%(path)s: %(message)s",
            code="schema",
            params={"path": path, "message": error.message},
        )
        for path, error in zip(paths, problems, strict=True)
    ]
    raise ValidationError(messages)


def validators_for(bot_config: BotConfig) -> list[Validator]:
    validators: list[Validator] = []
    schema = bot_config.schema
    if schema is not None and schema is not True and schema != {}:
        validators.append(partial(validate_against_schema, schema))
    for path in conf.settings.VALIDATORS:
        site_validator = import_string(path)
        validators.append(partial(_call_site_validator, site_validator, bot_config))
    return validators


def _call_site_validator(
    site_validator: Callable[[dict[str, Any], BotConfig], None],
    bot_config: BotConfig,
    config: dict[str, Any],
) -> None:
    site_validator(config, bot_config)


def error_paths(error: ValidationError) -> list[str]:
    """The JSON Pointers a schema ValidationError names (empty for other errors)."""
    return [
        e.params["path"]
        for e in error.error_list
        if e.code == "schema" and e.params and "path" in e.params
    ]
