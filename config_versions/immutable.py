"""Rows of a history: written once, never changed, never deleted one by one.

The ORM side of what the database's triggers guard (migration 0006): saving a row again,
``update()``, ``bulk_update()`` and ``delete()`` raise :class:`ImmutableVersionError`
with a message that says what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, NoReturn, TypeVar

from django.db import models

from config_versions.exceptions import ImmutableVersionError

_Row = TypeVar("_Row", bound=models.Model)


class ImmutableQuerySet(models.QuerySet[_Row]):
    """Rows of a history: ``update()``, ``delete()`` and ``bulk_update()`` raise."""

    refused_update: ClassVar[str]
    refused_delete: ClassVar[str]

    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableVersionError(self.refused_update)

    def delete(self) -> NoReturn:
        raise ImmutableVersionError(self.refused_delete)

    def bulk_update(
        self,
        objs: Iterable[_Row],
        fields: Iterable[str],
        batch_size: int | None = None,
    ) -> NoReturn:
        raise ImmutableVersionError(self.refused_update)


class ImmutableRow(models.Model):
    """A row of a history: saved once, never changed, never deleted on its own."""

    refused_change: ClassVar[str]
    refused_delete: ClassVar[str]

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableVersionError(self.refused_change)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableVersionError(self.refused_delete)
