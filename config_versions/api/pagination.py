"""Page-number pagination sized by ``CONFIG_VERSIONS["API_PAGE_SIZE"]``, read per request."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from config_versions import conf


class ApiPagination(PageNumberPagination):
    def get_page_size(self, request: Request) -> int:
        return int(conf.get("API_PAGE_SIZE"))

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> Any:
        # Strictly what the schema says, an integer: DRF would read "?page=" as page 1
        # and "?page=last" as the last page. Anything else is "Invalid page." (404).
        return request.query_params.get(self.page_query_param, 1)
