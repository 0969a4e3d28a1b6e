"""BotConfig and its immutable histories: BotConfigVersion, BotConfigChange for its own
fields, BotConfigLabelMove for its labels, BotConfigProposalEvent for its proposals (with
BotConfigProposal, their summary), and PurgedConfig, the tombstone of a history removed
for good.

Long because Django finds an app's tables here, and each table's rules (what may be
deleted or archived, which columns the database keeps) sit next to its fields; the
row-level immutability they share lives in ``immutable``, the JSON column in
``jsonfield``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models.signals import pre_delete
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config_versions.conf import settings as cv_settings
from config_versions.core.errors import InvalidConfigError
from config_versions.core.fields import check_text
from config_versions.exceptions import ImmutableVersionError
from config_versions.immutable import ImmutableQuerySet, ImmutableRow
from config_versions.jsonfield import ExactJSONField

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from config_versions.core.manager import ConfigVersionManager


ARCHIVE_INSTEAD = (
    "Bot configs are archived, not deleted, so that their history is kept: use "
    "archive() (the admin's delete does). purge_config_history removes one for good."
)


# Written by BotConfig.archive()/restore() only.
_ARCHIVE_FIELDS = frozenset({"archived_at", "archived_by", "archive_reason"})


class BotConfigQuerySet(models.QuerySet["BotConfig"]):
    def active(self) -> BotConfigQuerySet:
        """Configs in use: not archived. What the API serves and the changelist lists."""
        return self.filter(archived_at__isnull=True)

    def archived(self) -> BotConfigQuerySet:
        return self.filter(archived_at__isnull=False)

    def delete(self) -> NoReturn:
        raise ImmutableVersionError(ARCHIVE_INSTEAD)

    def with_last_version(self) -> BotConfigQuerySet:
        """Annotate ``last_changed_by`` and ``last_changed_at`` from the head version."""
        head = BotConfigVersion.objects.filter(
            bot_config=models.OuterRef("pk"), version=models.OuterRef("current_version")
        )
        return self.annotate(
            last_changed_by=models.Subquery(head.values("created_by")[:1]),
            last_changed_at=models.Subquery(head.values("created_at")[:1]),
        )


def check_description(value: object) -> None:
    """Refuse a description over ``MAX_DESCRIPTION_LENGTH``, with a NUL or a lone surrogate.

    ``BotConfig.clean()`` calls it, so the admin and any caller of ``full_clean()`` (the
    API) give the same answer: a ``ValidationError`` on ``description``.
    """
    try:
        check_text("description", value, max_length=cv_settings.MAX_DESCRIPTION_LENGTH)
    except InvalidConfigError as exc:
        message = str(exc)
        raise ValidationError(
            {"description": message[:1].upper() + message[1:]}, code="invalid"
        ) from None


class BotConfig(models.Model):
    name = models.CharField(_("name"), max_length=200, help_text=_("Human-readable name."))
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        help_text=_("Unique identifier used in URLs and by API clients."),
    )
    description = models.TextField(
        _("description"), blank=True, help_text=_("What this bot is for.")
    )
    schema = models.JSONField(
        _("JSON Schema"),
        null=True,
        blank=True,
        help_text=_("Optional JSON Schema every new version of the config must satisfy."),
    )
    created_at = models.DateTimeField(
        _("created at"), auto_now_add=True, help_text=_("When the config was created.")
    )
    updated_at = models.DateTimeField(
        _("updated at"),
        auto_now=True,
        help_text=_("When the config or its current version last changed."),
    )
    current_version = models.PositiveIntegerField(
        _("current version"),
        default=0,
        editable=False,
        help_text=_("Number of the newest version; 0 before the first. Kept by the database."),
    )
    archived_at = models.DateTimeField(
        _("archived at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the config was archived: it left the API and the changelist, and its "
            "history is kept. Empty while the config is in use."
        ),
    )
    archived_by = models.CharField(  # noqa: DJ001 - None: not archived, or by no one known
        _("archived by"), max_length=255, null=True, blank=True, editable=False
    )
    archive_reason = models.TextField(_("archive reason"), blank=True, editable=False)

    objects = BotConfigQuerySet.as_manager()

    # Builds the version manager of a config: set when the app is ready (to
    # ``config_versions.managers.database_manager``), so that the models need not
    # import the layers built on top of them. A site may set its own.
    manager_factory: ClassVar[Callable[..., ConfigVersionManager] | None] = None

    class Meta:
        verbose_name = _("bot config")
        verbose_name_plural = _("bot configs")
        ordering = ["name"]
        permissions = [
            ("rollback_botconfig", _("Can roll back bot config")),
            ("promote_botconfig", _("Can move bot config labels")),
            ("promote_protected_botconfig", _("Can move protected bot config labels")),
            ("propose_botconfig", _("Can propose bot config changes")),
            ("review_botconfig", _("Can review bot config proposals")),
            ("bypass_review_botconfig", _("Can change bot configs without review")),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.pk is not None:
            self._refuse_a_purged_id(kwargs.get("using"))
        # current_version belongs to the database (a trigger moves it with each new
        # version), and archiving to archive()/restore(): saving an instance loaded
        # earlier must not write its stale copy of them back (un-archiving the config).
        if not self._state.adding and not kwargs.get("force_insert"):
            fields = kwargs.get("update_fields")
            if fields is None:
                fields = [
                    f.attname
                    for f in self._meta.concrete_fields
                    if not f.primary_key and f.attname not in _ARCHIVE_FIELDS
                ]
            kwargs["update_fields"] = [f for f in fields if f != "current_version"]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        check_description(self.description)
        if self.schema is not None:
            from config_versions.validation import check_schema

            check_schema(self.schema)

    def _refuse_a_purged_id(self, using: str | None) -> None:
        # The database lets the version rows of a config with a tombstone be deleted:
        # a new config given the id of a purged one would have an unprotected history.
        # Generated ids never come back; only an explicit one can.
        using = using or router.db_for_write(type(self), instance=self)
        if PurgedConfig.objects.using(using).filter(config_id=self.pk).exists():
            raise ImmutableVersionError(
                f"Bot config id {self.pk} belonged to a purged config; a new config "
                "cannot take it (its history would not be protected)."
            )

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableVersionError(ARCHIVE_INSTEAD)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def archive(self, *, by: str | None = None, reason: str = "") -> bool:
        """Retire this config: it leaves the API (410 Gone) and the changelist; its
        history stays readable and no version can be written until :meth:`restore`.

        One conditional UPDATE, so it waits for a writer holding the config's row and
        the first of two concurrent archives wins: archiving an archived config changes
        nothing (its date, author and reason stay) and returns False. ``by`` and
        ``reason`` are checked like a version's author and reason
        (:class:`~config_versions.core.errors.InvalidConfigError`).
        """
        check_text("archived_by", "" if by is None else by, max_length=255)
        check_text("reason", reason, max_length=cv_settings.MAX_REASON_LENGTH)
        now = timezone.now()
        return self._set_archive_fields(
            expect_archived=False,
            archived_at=now,
            archived_by=by,
            archive_reason=reason,
            updated_at=now,
        )

    def restore(self) -> bool:
        """Bring an archived config back into use, with its whole history; False if it
        was not archived (nothing changed)."""
        return self._set_archive_fields(
            expect_archived=True,
            archived_at=None,
            archived_by=None,
            archive_reason="",
            updated_at=timezone.now(),
        )

    def _set_archive_fields(self, *, expect_archived: bool, **values: Any) -> bool:
        if self.pk is None:
            raise ValueError("Save the bot config before archiving or restoring it.")
        using = router.db_for_write(type(self), instance=self)
        changed = (
            type(self)
            ._default_manager.using(using)
            .filter(pk=self.pk, archived_at__isnull=not expect_archived)
            .update(**values)
        )
        # What the database holds now, whoever wrote it (DoesNotExist if purged).
        self.refresh_from_db(using=using, fields=list(values))
        return bool(changed)

    @property
    def version_manager(self) -> ConfigVersionManager:
        """A manager bound to this config's history in the database."""
        return self.get_version_manager()

    def get_version_manager(
        self, user: AbstractBaseUser | AnonymousUser | None = None
    ) -> ConfigVersionManager:
        """A manager bound to this config; versions it writes record ``user``."""
        factory = type(self).manager_factory
        if factory is None:  # pragma: no cover - set by AppConfig.ready()
            raise RuntimeError("config_versions is not ready: add it to INSTALLED_APPS.")
        return factory(self, user=user)


class BotConfigVersionQuerySet(ImmutableQuerySet["BotConfigVersion"]):
    refused_update = "Config versions cannot be updated."
    refused_delete = (
        "Config versions cannot be deleted. Archive the BotConfig to retire it; "
        "purge_config_history removes a whole history, leaving a tombstone."
    )

    def newest_first(self) -> BotConfigVersionQuerySet:
        return self.order_by("-version")


class BotConfigVersion(ImmutableRow):
    bot_config = models.ForeignKey(
        BotConfig,
        # A config with a history is archived, not deleted; only purge_config_history
        # removes one (the database refuses other deletions of version rows).
        on_delete=models.PROTECT,
        related_name="versions",
        # The unique (bot_config, version) index serves every lookup by config; a
        # second index on bot_config alone would only cost writes, and on a freshly
        # loaded table PostgreSQL's planner would pick it and sort the whole history.
        db_index=False,
        verbose_name=_("bot config"),
        help_text=_("The config this version belongs to."),
    )
    version = models.PositiveIntegerField(
        _("version"), help_text=_("Number of this version, 1, 2, 3 ... without gaps.")
    )
    config = ExactJSONField(_("config"), help_text=_("The whole configuration at this version."))
    timestamp = models.FloatField(
        _("timestamp"),
        help_text=_("When it was created, as the exact Unix time recorded (and hashed)."),
    )
    created_at = models.DateTimeField(
        _("created at"), help_text=_("When it was created, for display and sorting.")
    )
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why this version exists."))
    previous_version = models.PositiveIntegerField(
        _("previous version"),
        null=True,
        blank=True,
        help_text=_("The version this one was derived from; empty for the first."),
    )
    created_by = models.CharField(  # noqa: DJ001 - None ("unknown") and "" must round-trip
        _("created by"),
        max_length=255,
        null=True,
        blank=True,
        help_text=_("Who or what created it, as a label (a username, 'configbot' ...)."),
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by user"),
        help_text=_("The signed-in user who created it, while that account exists."),
    )
    metadata = ExactJSONField(
        _("metadata"),
        default=dict,
        blank=True,
        help_text=_("Free-form details; rollbacks record rollback_from and rollback_to."),
    )
    content_hash = models.CharField(
        _("content hash"),
        max_length=64,
        help_text=_("SHA-256 of the config's canonical JSON."),
    )
    chain_hash = models.CharField(
        _("chain hash"),
        max_length=64,
        help_text=_(
            "SHA-256 over the previous chain hash, the content hash and the other recorded "
            "fields: editing any version breaks the chain from there on."
        ),
    )
    signature = models.CharField(  # noqa: DJ001 - NULL: written while no key was set
        _("signature"),
        max_length=64,
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "HMAC-SHA256 of the chain hash with CONFIG_VERSIONS['SIGNING_KEY'], which the "
            "database never sees: re-chaining an edited history cannot forge it."
        ),
    )

    objects = BotConfigVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("bot config version")
        verbose_name_plural = _("bot config versions")
        ordering = ["bot_config", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot_config", "version"], name="config_versions_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bot_config} v{self.version}"

    refused_change = "Config versions cannot be changed once saved."
    refused_delete = (
        "A config version cannot be deleted. Archive the BotConfig to retire it; "
        "purge_config_history removes a whole history, leaving a tombstone."
    )

    @property
    def rollback_to(self) -> int | None:
        value = (self.metadata or {}).get("rollback_to")
        return value if isinstance(value, int) else None

    def validate_unique(self, exclude: Any = None) -> None:
        # Numbers are assigned by the store under its compare-and-set; nothing to check.
        return None


class BotConfigChangeQuerySet(ImmutableQuerySet["BotConfigChange"]):
    refused_update = "Recorded changes cannot be updated."
    refused_delete = "Recorded changes cannot be deleted; purge_config_history removes them."


class PurgedConfigQuerySet(ImmutableQuerySet["PurgedConfig"]):
    refused_update = "Tombstones cannot be changed."
    refused_delete = "Tombstones cannot be deleted."


class BotConfigChange(ImmutableRow):
    """A change of one of a config's own fields, with before and after, author and reason.

    Name, slug, description and JSON Schema make no version; these rows are their
    history, written by :func:`config_versions.changes.record_changes` in the same
    transaction as the change itself. Like versions, they are never changed or deleted
    one by one.
    """

    FIELDS = ("name", "slug", "description", "schema")

    bot_config = models.ForeignKey(
        BotConfig,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("bot config"),
        help_text=_("The config whose field changed."),
    )
    field = models.CharField(
        _("field"),
        max_length=20,
        choices=[
            ("name", _("name")),
            ("slug", _("slug")),
            ("description", _("description")),
            ("schema", _("JSON Schema")),
        ],
        help_text=_("Which of the config's own fields changed."),
    )
    before = models.JSONField(
        _("before"),
        null=True,
        blank=True,
        help_text=_("The field's value before the change; empty for no value (no schema)."),
    )
    after = models.JSONField(
        _("after"),
        null=True,
        blank=True,
        help_text=_("The field's value after the change; empty for no value (no schema)."),
    )
    reason = models.TextField(_("reason"), blank=True, help_text=_("Why it was changed."))
    created_by = models.CharField(  # noqa: DJ001 - None ("unknown") and "" differ, as on versions
        _("changed by"),
        max_length=255,
        null=True,
        blank=True,
        help_text=_("Who or what changed it, as a label (a username, 'configbot' ...)."),
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by user"),
        help_text=_("The signed-in user who changed it, while that account exists."),
    )
    created_at = models.DateTimeField(
        _("changed at"), default=timezone.now, help_text=_("When it was changed.")
    )

    objects = BotConfigChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("bot config change")
        verbose_name_plural = _("bot config changes")
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.bot_config}: {self.field} changed"

    refused_change = "Recorded changes cannot be changed once saved."
    refused_delete = "A recorded change cannot be deleted; purge_config_history removes them."


class BotConfigLabelMoveQuerySet(ImmutableQuerySet["BotConfigLabelMove"]):
    refused_update = "Label moves cannot be updated: move the label again."
    refused_delete = "Label moves cannot be deleted; purge_config_history removes them."


class BotConfigLabelMove(ImmutableRow):
    """One move of a label (``staging``, ``production``) to a version of its config.

    Where a label points is its last move; where it pointed at any time, the last move
    made by then. Moves are numbered per config (``sequence``) and hash-chained like
    versions (``config_versions.core.labels``), and the database refuses to change or
    delete them, as it does versions. Written by the version manager's ``set_label``.
    """

    bot_config = models.ForeignKey(
        BotConfig,
        on_delete=models.PROTECT,
        related_name="label_moves",
        db_index=False,  # the unique (bot_config, sequence) index serves it
        verbose_name=_("bot config"),
    )
    sequence = models.PositiveIntegerField(
        _("sequence"), help_text=_("Number of this move among the config's moves: 1, 2, 3 ...")
    )
    label = models.CharField(_("label"), max_length=50)
    from_version = models.PositiveIntegerField(
        _("from version"), null=True, blank=True, help_text=_("Empty when first set.")
    )
    to_version = models.PositiveIntegerField(_("to version"))
    timestamp = models.FloatField(_("timestamp"), help_text=_("The exact Unix time recorded."))
    created_at = models.DateTimeField(_("moved at"))
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.CharField(  # noqa: DJ001 - None ("unknown") and "" differ, as on versions
        _("moved by"), max_length=255, null=True, blank=True
    )
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved by user"),
    )
    chain_hash = models.CharField(_("chain hash"), max_length=64)
    signature = models.CharField(  # noqa: DJ001 - NULL: written while no key was set
        _("signature"), max_length=64, null=True, blank=True, editable=False
    )

    objects = BotConfigLabelMoveQuerySet.as_manager()

    class Meta:
        verbose_name = _("label move")
        verbose_name_plural = _("label moves")
        ordering = ["bot_config", "-sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot_config", "sequence"], name="config_versions_unique_label_move"
            ),
        ]
        indexes = [
            models.Index(
                fields=["bot_config", "label", "sequence"], name="config_versions_label_head"
            ),
        ]

    refused_change = "Label moves cannot be changed once saved: move the label again."
    refused_delete = "A label move cannot be deleted; purge_config_history removes them."

    def __str__(self) -> str:
        return f"{self.bot_config}: {self.label} → v{self.to_version}"


class BotConfigProposalEventQuerySet(ImmutableQuerySet["BotConfigProposalEvent"]):
    refused_update = "Proposal events cannot be updated: record a new step."
    refused_delete = "Proposal events cannot be deleted; purge_config_history removes them."


class BotConfigProposalEvent(ImmutableRow):
    """One recorded step of a proposal: submitted, revised, reviewed, withdrawn, applied.

    Numbered per config (``sequence``) and hash-chained like label moves
    (``config_versions.core.proposals``); the database refuses to change or delete them.
    ``data`` is the step's JSON (a revision's config, a review's decision), kept as the
    exact text hashed. Written by the version manager's review rules.
    """

    bot_config = models.ForeignKey(
        BotConfig,
        on_delete=models.PROTECT,
        related_name="proposal_events",
        db_index=False,  # the unique (bot_config, sequence) index serves it
        verbose_name=_("bot config"),
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    proposal = models.PositiveIntegerField(
        _("proposal"), help_text=_("Number of the proposal among the config's: 1, 2, 3 ...")
    )
    kind = models.CharField(_("kind"), max_length=20)
    timestamp = models.FloatField(_("timestamp"), help_text=_("The exact Unix time recorded."))
    created_at = models.DateTimeField(_("recorded at"))
    actor = models.CharField(  # noqa: DJ001 - None ("unknown") and "" differ, as on versions
        _("by"), max_length=255, null=True, blank=True
    )
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by user"),
    )
    data = models.TextField(_("data"), help_text=_("The step's JSON, as hashed."))
    chain_hash = models.CharField(_("chain hash"), max_length=64)
    signature = models.CharField(  # noqa: DJ001 - NULL: written while no key was set
        _("signature"), max_length=64, null=True, blank=True, editable=False
    )

    objects = BotConfigProposalEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("proposal event")
        verbose_name_plural = _("proposal events")
        ordering = ["bot_config", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot_config", "sequence"], name="config_versions_unique_proposal_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["bot_config", "proposal", "sequence"],
                name="config_versions_proposal_steps",
            ),
        ]

    refused_change = "Proposal events cannot be changed once saved: record a new step."
    refused_delete = "A proposal event cannot be deleted; purge_config_history removes them."

    def __str__(self) -> str:
        return f"{self.bot_config}: proposal {self.proposal} {self.kind}"


class BotConfigProposal(models.Model):
    """Where a proposal stands: a summary kept beside its events to list proposals by.

    Rewritten with each event, in the same transaction; the events are the record (and
    ``verify_config_history`` checks this summary against them). Change proposals
    through the version manager (``config_versions.review``), never here.
    """

    bot_config = models.ForeignKey(
        BotConfig,
        on_delete=models.PROTECT,
        related_name="proposals",
        db_index=False,  # the unique (bot_config, number) index serves it
        verbose_name=_("bot config"),
    )
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=[(s, _(s)) for s in ("open", "approved", "rejected", "applied", "withdrawn")],
    )
    author = models.CharField(  # noqa: DJ001 - None: by no one known
        _("author"), max_length=255, null=True, blank=True
    )
    label = models.CharField(  # noqa: DJ001 - None: moves no label
        _("label"), max_length=50, null=True, blank=True
    )
    base_version = models.PositiveIntegerField(_("base version"))
    revision = models.PositiveIntegerField(_("revision"))
    approvals = models.PositiveIntegerField(_("approvals"), default=0)
    reason = models.TextField(_("reason"), blank=True)
    applied_version = models.PositiveIntegerField(_("applied as version"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot_config", "number"], name="config_versions_unique_proposal"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="config_versions_proposal_todo"),
        ]

    def __str__(self) -> str:
        return f"{self.bot_config}: proposal {self.number} ({self.status})"


class PurgedConfig(ImmutableRow):
    """The tombstone ``purge_config_history`` leaves for a history it removed for good.

    The database lets version rows be deleted only for a config that has one (see
    migration 0006), and verification lists them: a history can go, but not unseen.
    """

    config_id = models.BigIntegerField(
        _("config id"), db_index=True, help_text=_("Primary key the config had.")
    )
    slug = models.CharField(_("slug"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    versions = models.PositiveIntegerField(
        _("versions"), help_text=_("How many versions the history had.")
    )
    last_chain_hash = models.CharField(
        _("last chain hash"),
        max_length=64,
        blank=True,
        help_text=_("Chain hash of its newest version: what the history added up to."),
    )
    purged_by = models.CharField(  # noqa: DJ001 - None: run without a known operator
        _("purged by"), max_length=255, null=True, blank=True
    )
    purged_at = models.DateTimeField(_("purged at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    objects = PurgedConfigQuerySet.as_manager()

    class Meta:
        verbose_name = _("purged config")
        verbose_name_plural = _("purged configs")
        ordering = ["-purged_at"]

    refused_change = "Tombstones cannot be changed."
    refused_delete = "Tombstones cannot be deleted."

    def __str__(self) -> str:
        return f"{self.slug} (purged {self.purged_at:%Y-%m-%d})"


def _refuse_deletion(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    """Django's deletion collector (``Collector.delete``, which a plain queryset's
    ``delete()`` and cascades from other models use) skips the models' own ``delete()``;
    it sends ``pre_delete`` for every row before it deletes any. A bot config is
    archived instead, and history rows go only with ``purge_history``, in SQL."""
    if sender is BotConfig:
        raise ImmutableVersionError(ARCHIVE_INSTEAD)
    raise ImmutableVersionError(cast("type[ImmutableRow]", sender).refused_delete)


for _model in (
    BotConfig,
    BotConfigVersion,
    BotConfigChange,
    BotConfigLabelMove,
    BotConfigProposalEvent,
    PurgedConfig,
):
    pre_delete.connect(
        _refuse_deletion,
        sender=_model,
        dispatch_uid=f"config_versions_refuse_delete_{_model.__name__}",
    )
