"""`winback users add|list|remove`: who may sign in to the web UI, and with which role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from winback.cli.common import JsonFlag, RoleOption, emit_json, say
from winback.config import get_settings

if TYPE_CHECKING:
    from winback.ui.users import UserStore

users_app = typer.Typer(help="Who may sign in to the web UI, and with which role.", no_args_is_help=True)


def _store() -> UserStore:
    from winback.ui.users import UserStore  # imported late: the UI layer is slow to load

    settings = get_settings()
    assert settings.users_file is not None  # derived from the data dir when unset
    return UserStore(settings.users_file)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: RoleOption = "cs_staff",
    password: Annotated[
        str | None, typer.Option(help="At least 10 characters; default: a random one, printed once.")
    ] = None,
    replace: Annotated[bool, typer.Option(help="Reset an existing user's role and password.")] = False,
) -> None:
    """Add a user (the password is stored only as a scrypt hash)."""
    given = _store().add(name, role, password, replace)
    say(f"user {name} ({role}) saved in {get_settings().users_file}" + ("" if password else f"; password: {given}"))


@users_app.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """Users and roles (never passwords)."""
    users = list(_store().users().values())
    if as_json:
        emit_json([{"name": u.name, "role": u.role.value} for u in users])
        return
    for user in users:
        say(f"{user.name}\t{user.role.value}")


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Remove a user (their saved conversations stay)."""
    from sqlalchemy import inspect

    from winback.cli.common import engine
    from winback.jobs.briefing import unsubscribe

    _store().remove(name)
    db = engine()
    if inspect(db).has_table("briefing_subscriptions"):
        unsubscribe(db, name)  # no briefing goes to someone who may no longer sign in
    say(f"user {name} removed")
