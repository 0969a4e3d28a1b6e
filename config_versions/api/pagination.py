"""Page-number pagination sized by ``CONFIG_VERSIONS["API_PAGE_SIZE"]``, read per request."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from config_versions import conf


class ApiPagination(PageNumberPagination):
    def get_page_size(self, request: Request) -> int:
        return int(conf.get("API_PAGE_SIZE"))
