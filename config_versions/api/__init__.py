"""The REST API (Django REST framework), mounted with include("config_versions.api.urls")."""
