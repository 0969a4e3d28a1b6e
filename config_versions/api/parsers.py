"""JSON request bodies, refused with a 400 (or 413) that says why, never a 500.

DRF's ``JSONParser`` turns ``ValueError`` into a 400 but lets ``RecursionError`` (a
deeply nested document) escape as a 500, reads bodies of any size, and accepts escaped
lone surrogates (``"\\ud800"``), which no database can store as UTF-8.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import renderers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

from config_versions import conf

# Room for the other fields and for indentation around a config of the maximal size.
BODY_SIZE_FACTOR = 4
BODY_SIZE_SLACK = 64 * 1024
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (configs hold finite numbers only)")


def max_body_bytes() -> int:
    return conf.settings.MAX_CONFIG_BYTES * BODY_SIZE_FACTOR + BODY_SIZE_SLACK


class ConfigJSONParser(BaseParser):
    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(
        self,
        stream: IO[Any] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return {}
        limit = max_body_bytes()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(
                f"The request body is larger than {limit} bytes; a config may hold at most "
                f"{conf.settings.MAX_CONFIG_BYTES} bytes of compact JSON."
            )
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            # str.encode() refuses bytes-to-bytes codecs (bz2_codec ...): text encodings only.
            "".encode(encoding)
            text = raw.decode(encoding)
        except (LookupError, UnicodeError) as exc:
            raise ParseError(f"The request body is not text in {encoding!r}: {exc}") from None
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError(
                "JSON parse error - the document is nested too deeply; "
                f"configs may be nested at most {conf.settings.MAX_DEPTH} levels."
            ) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _SURROGATE_ESCAPE.search(text):
            _reject_lone_surrogates(data)
        return data


def _reject_lone_surrogates(data: Any) -> None:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(
            "JSON parse error - the document contains an unpaired surrogate escape "
            "(\\ud800-\\udfff), which is not a character and cannot be stored."
        ) from None
    except RecursionError:
        raise ParseError("JSON parse error - the document is nested too deeply.") from None
