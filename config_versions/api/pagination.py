"""Page-number pagination sized by ``CONFIG_VERSIONS["API_PAGE_SIZE"]``, read per request."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from config_versions import conf
from config_versions.api.serializers import MAX_VERSION, PageQuerySerializer


class ApiPagination(PageNumberPagination):
    def get_page_size(self, request: Request) -> int:
        return conf.settings.API_PAGE_SIZE

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> Any:
        # Strictly what the schema says, an integer from 1 in ASCII digits: DRF would read
        # "?page=" as page 1, "?page=last" as the last page, and Arabic-Indic digits as numbers.
        # An ill-formed number is a 400 naming "page"; a page past the last one is 404.
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get(self.page_query_param, 1)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": (
                    "A page number, from 1, in ASCII digits (else 400). "
                    "A page past the last one is 404."
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
            }
        ]
