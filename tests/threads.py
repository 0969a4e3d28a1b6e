"""Helpers for tests that write from several threads, each with its own connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections


def in_thread(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a thread's work so that the connections it opened are closed when it ends
    (a test database cannot be dropped while a thread's connection holds it)."""

    def run(*args: Any) -> Any:
        try:
            return func(*args)
        finally:
            connections.close_all()

    return run
