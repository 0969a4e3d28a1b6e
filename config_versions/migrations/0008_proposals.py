"""Review (issue 14): proposals, their recorded events, and the permissions.

``BotConfigProposalEvent`` keeps every step of a proposal, immutable like versions and
label moves (triggers from ``_triggers``); ``BotConfigProposal`` is the summary listed.
Not atomic, like 0006 and 0007: MySQL cannot roll back DDL.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config_versions.migrations._triggers import ImmutableTable, runner

EVENTS = ImmutableTable(
    table="config_versions_botconfigproposalevent",
    name="proposal_events",
    frozen=(
        "id",
        "bot_config_id",
        "sequence",
        "proposal",
        "kind",
        "timestamp",
        "created_at",
        "actor",
        "data",
        "chain_hash",
        "signature",
    ),
    user_column="actor_user_id",
    message="config_versions: proposal events are immutable (record a new step)",
    delete_message="config_versions: proposal events cannot be deleted",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("config_versions", "0007_label_moves"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="botconfig",
            options={
                "ordering": ["name"],
                "permissions": [
                    ("rollback_botconfig", "Can roll back bot config"),
                    ("promote_botconfig", "Can move bot config labels"),
                    ("promote_protected_botconfig", "Can move protected bot config labels"),
                    ("propose_botconfig", "Can propose bot config changes"),
                    ("review_botconfig", "Can review bot config proposals"),
                    ("bypass_review_botconfig", "Can change bot configs without review"),
                ],
                "verbose_name": "bot config",
                "verbose_name_plural": "bot configs",
            },
        ),
        migrations.CreateModel(
            name="BotConfigProposal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField(verbose_name="number")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "open"),
                            ("approved", "approved"),
                            ("rejected", "rejected"),
                            ("applied", "applied"),
                            ("withdrawn", "withdrawn"),
                        ],
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                (
                    "author",
                    models.CharField(blank=True, max_length=255, null=True, verbose_name="author"),
                ),
                (
                    "label",
                    models.CharField(blank=True, max_length=50, null=True, verbose_name="label"),
                ),
                ("base_version", models.PositiveIntegerField(verbose_name="base version")),
                ("revision", models.PositiveIntegerField(verbose_name="revision")),
                ("approvals", models.PositiveIntegerField(default=0, verbose_name="approvals")),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
                (
                    "applied_version",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="applied as version"
                    ),
                ),
                ("created_at", models.DateTimeField(verbose_name="submitted at")),
                ("updated_at", models.DateTimeField(verbose_name="updated at")),
                (
                    "bot_config",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proposals",
                        to="config_versions.botconfig",
                        verbose_name="bot config",
                    ),
                ),
            ],
            options={
                "verbose_name": "proposal",
                "verbose_name_plural": "proposals",
                "ordering": ["-updated_at"],
                "indexes": [
                    models.Index(
                        fields=["status", "-updated_at"], name="config_versions_proposal_todo"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("bot_config", "number"), name="config_versions_unique_proposal"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="BotConfigProposalEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("sequence", models.PositiveIntegerField(verbose_name="sequence")),
                (
                    "proposal",
                    models.PositiveIntegerField(
                        help_text="Number of the proposal among the config's: 1, 2, 3 ...",
                        verbose_name="proposal",
                    ),
                ),
                ("kind", models.CharField(max_length=20, verbose_name="kind")),
                (
                    "timestamp",
                    models.FloatField(
                        help_text="The exact Unix time recorded.", verbose_name="timestamp"
                    ),
                ),
                ("created_at", models.DateTimeField(verbose_name="recorded at")),
                (
                    "actor",
                    models.CharField(blank=True, max_length=255, null=True, verbose_name="by"),
                ),
                (
                    "data",
                    models.TextField(help_text="The step's JSON, as hashed.", verbose_name="data"),
                ),
                ("chain_hash", models.CharField(max_length=64, verbose_name="chain hash")),
                (
                    "signature",
                    models.CharField(
                        blank=True,
                        editable=False,
                        max_length=64,
                        null=True,
                        verbose_name="signature",
                    ),
                ),
                (
                    "actor_user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by user",
                    ),
                ),
                (
                    "bot_config",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proposal_events",
                        to="config_versions.botconfig",
                        verbose_name="bot config",
                    ),
                ),
            ],
            options={
                "verbose_name": "proposal event",
                "verbose_name_plural": "proposal events",
                "ordering": ["bot_config", "sequence"],
                "indexes": [
                    models.Index(
                        fields=["bot_config", "proposal", "sequence"],
                        name="config_versions_proposal_steps",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("bot_config", "sequence"),
                        name="config_versions_unique_proposal_event",
                    )
                ],
            },
        ),
        migrations.RunPython(runner(EVENTS, 0), runner(EVENTS, 1)),
    ]
