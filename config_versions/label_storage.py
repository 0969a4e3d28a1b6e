"""Label moves in the database: the ``LabelStore`` half of ``DatabaseStore``.

A move is one INSERT, made by the manager inside ``DatabaseStore.serialized()`` (the
config's row lock), so moves of one config are numbered and chained one at a time; the
unique (config, sequence) index refuses a move that another writer numbered first. A
move whose COMMIT fails is looked for on a new connection, as a version is, so that an
answer lost after the server committed is not reported as a failure.
Reads are ORM queries on the (config, label, sequence) index: labels are read far less
often than configs, and the API's reads of a label go through ``queries`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, IntegrityError, connections, models, transaction

from config_versions.conf import settings as cv_settings
from config_versions.core.errors import StoreConflict
from config_versions.core.jsondata import GENESIS
from config_versions.core.labels import LabelMove, move_chain_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.core.version import VERSION_FIELDS, ConfigVersion
from config_versions.models import BotConfigLabelMove, BotConfigVersion
from config_versions.statements import created_at, version_from_row

if TYPE_CHECKING:
    from config_versions.models import BotConfig

MOVE_COLUMNS = (
    "label",
    "from_version",
    "to_version",
    "timestamp",
    "reason",
    "created_by",
    "sequence",
    "chain_hash",
)


def move_from_row(row: tuple[Any, ...]) -> LabelMove:
    """A core ``LabelMove`` from the values of ``MOVE_COLUMNS``."""
    return LabelMove(**dict(zip(MOVE_COLUMNS, row, strict=True)))


class DatabaseLabels:
    """Label reads and appends for one config; mixed into ``DatabaseStore``."""

    bot_config: BotConfig
    using: str
    read_db: str
    user_id: Any
    _serializing: bool
    _landed: Callable[[], bool] | None

    def _moves(self) -> models.QuerySet[BotConfigLabelMove]:
        # Inside serialized() the reads the move relies on go where it is written.
        alias = self.using if self._serializing else self.read_db
        return BotConfigLabelMove.objects.using(alias).filter(bot_config_id=self.bot_config.pk)

    def _first(self, rows: models.QuerySet[BotConfigLabelMove]) -> LabelMove | None:
        row = rows.order_by("-sequence").values_list(*MOVE_COLUMNS).first()
        return None if row is None else move_from_row(row)

    def version_at(self, as_of: float) -> ConfigVersion | None:
        row = (
            BotConfigVersion.objects.using(self.read_db)
            .filter(bot_config_id=self.bot_config.pk, timestamp__lte=as_of)
            .order_by("-version")
            .values_list(*VERSION_FIELDS)
            .first()
        )
        return None if row is None else version_from_row(row)

    def label_head(self, name: str) -> LabelMove | None:
        return self._first(self._moves().filter(label=name))

    def label_heads(self) -> dict[str, LabelMove]:
        last = (
            BotConfigLabelMove.objects.filter(
                bot_config_id=models.OuterRef("bot_config_id"), label=models.OuterRef("label")
            )
            .order_by("-sequence")
            .values("sequence")[:1]
        )
        rows = self._moves().filter(sequence=models.Subquery(last)).values_list(*MOVE_COLUMNS)
        return {move.label: move for move in map(move_from_row, rows)}

    def label_at(self, name: str, as_of: float) -> LabelMove | None:
        return self._first(self._moves().filter(label=name, timestamp__lte=as_of))

    def label_moves(self, name: str | None = None) -> list[LabelMove]:
        rows = self._moves()
        if name is not None:
            rows = rows.filter(label=name)
        return [move_from_row(row) for row in rows.order_by("-sequence").values_list(*MOVE_COLUMNS)]

    def append_label_move(self, move: LabelMove) -> LabelMove:
        last = (
            BotConfigLabelMove.objects.using(self.using)
            .filter(bot_config_id=self.bot_config.pk)
            .order_by("-sequence")
            .values_list("sequence", "chain_hash")
            .first()
        )
        sequence, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
        numbered = LabelMove(**{**vars(move), "sequence": sequence, "chain_hash": ""})
        link = move_chain_hash(previous, numbered)
        key = cv_settings.SIGNING_KEY
        try:
            with transaction.atomic(using=self.using):
                BotConfigLabelMove.objects.using(self.using).create(
                    bot_config_id=self.bot_config.pk,
                    sequence=sequence,
                    label=move.label,
                    from_version=move.from_version,
                    to_version=move.to_version,
                    timestamp=move.timestamp,
                    created_at=created_at(move.timestamp),
                    reason=move.reason,
                    created_by=move.created_by,
                    created_by_user_id=self.user_id,
                    chain_hash=link,
                    signature=sign_chain_hash(key, link) if key else None,
                )
        except IntegrityError:
            raise StoreConflict(sequence) from None  # another move took the number
        # Should the COMMIT of serialized() fail, the move may have landed all the same.
        self._landed = partial(
            row_landed,
            self.using,
            BotConfigLabelMove.objects.filter(
                bot_config_id=self.bot_config.pk, sequence=sequence, chain_hash=link
            ),
        )
        return LabelMove(**{**vars(numbered), "chain_hash": link})


def row_landed(using: str, rows: models.QuerySet[Any]) -> bool:
    """After the connection failed while committing a row: whether ``rows`` (that row,
    looked for by its config, sequence and chain hash) was committed all the same. Asked
    on a new connection; False if that fails too."""
    connections[using].close()
    try:
        return bool(rows.using(using).exists())
    except DatabaseError:
        return False
