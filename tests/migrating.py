"""A database made by the previous release, and its upgrade: the migration tests' steps.

`previous_release` migrates the test database back to the previous release's last migrations
and answers that release's models; rows are made with them as that release made them;
`upgrade` then migrates to the newest, as a deployment does, and the test reads the rows
through today's models."""

from __future__ import annotations

from typing import Any

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

Migrations = list[tuple[str, str]]


def previous_release(before: Migrations) -> Apps:
    """The database at `before` (app, migration name pairs); the models as they were then."""
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    return executor.loader.project_state(before).apps


def old_desk(old: Apps) -> Any:
    """A subaccount "Old desk" made with the previous release's models."""
    return old.get_model("accounts", "Subaccount").objects.create(
        name="Old desk", api_public_key="k", api_secret_sealed="s"
    )


def upgrade() -> None:
    """Migrate to the newest migrations, as a deployment does."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
