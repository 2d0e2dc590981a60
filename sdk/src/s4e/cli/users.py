"""`s4e users ...`: my profile, and instance users for superusers."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

from typing import Annotated, Optional

import typer

from s4e._operations import operation
from s4e._types import NOT_GIVEN
from s4e.cli.config import client
from s4e.cli.output import (
    AllOption,
    JsonOption,
    Output,
    PageOption,
    PerPageOption,
    QuietOption,
    SortOrderOption,
    YesOption,
    collect,
    confirm,
    given,
    handle_errors,
)

app = typer.Typer(help="Users of the instance.", no_args_is_help=True)

COLUMNS = ["id", "email", "name", "is_active", "is_superuser", "mfa_enabled", "last_login_at"]
IdArg = Annotated[str, typer.Argument(help="User id (usr_...).")]
NameOpt = Annotated[Optional[str], typer.Option("--name", help="Display name.")]
TimezoneOpt = Annotated[Optional[str], typer.Option("--timezone", help="IANA time zone, e.g. Europe/Istanbul.")]


@app.command("me")
@handle_errors
@operation("get_own_profile")
def me(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show my profile."""
    with client() as c:
        user = c.users.me()
    Output(json_output, quiet).item(user)


@app.command("update-me")
@handle_errors
@operation("update_own_profile")
def update_me(name: NameOpt = None, timezone: TimezoneOpt = None, json_output: JsonOption = False,
              quiet: QuietOption = False) -> None:
    """Change my display name or time zone."""
    with client() as c:
        user = c.users.update_me(name=given(name), timezone=given(timezone))
    Output(json_output, quiet).item(user)


@app.command("list")
@handle_errors
@operation("list_users")
def list_users(
    search: Annotated[Optional[str], typer.Option("--search", help="Email or name contains.")] = None,
    active: Annotated[Optional[bool], typer.Option("--active/--inactive", help="Account state.")] = None,
    superuser: Annotated[Optional[bool], typer.Option("--superuser/--no-superuser", help="Superuser flag.")]
    = None,
    sort_by: Annotated[Optional[str], typer.Option("--sort-by", help="created_at, email, name or last_login_at.")]
    = None,
    sort_order: SortOrderOption = None,
    page: PageOption = 1,
    per_page: PerPageOption = None,
    all_pages: AllOption = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List every user of the instance (superuser)."""
    with client() as c:
        pager = c.users.list(search=given(search), is_active=given(active), is_superuser=given(superuser),
                             sort_by=given(sort_by), sort_order=given(sort_order), page=page,
                             per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
@operation("get_user")
def get_user(user_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one user."""
    with client() as c:
        user = c.users.get(user_id)
    Output(json_output, quiet).item(user)


@app.command("create")
@handle_errors
@operation("create_user")
def create_user(
    email: Annotated[str, typer.Argument(help="Login email.")],
    name: NameOpt = None,
    set_password: Annotated[bool, typer.Option("--password", help="Prompt for a password (12-256 characters).")]
    = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create a user (superuser); without --password they cannot sign in until one is set."""
    password = NOT_GIVEN
    if set_password:  # prompts go to stderr so --json output stays clean
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    with client() as c:
        user = c.users.create(email=email, name=given(name), password=password)
    Output(json_output, quiet).item(user)


@app.command("update")
@handle_errors
@operation("update_user")
def update_user(
    user_id: IdArg,
    name: NameOpt = None,
    timezone: TimezoneOpt = None,
    active: Annotated[Optional[bool], typer.Option("--active/--inactive", help="Account state (superuser).")]
    = None,
    superuser: Annotated[Optional[bool], typer.Option("--superuser/--no-superuser", help="Superuser flag.")]
    = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Change a user."""
    with client() as c:
        user = c.users.update(user_id, name=given(name), timezone=given(timezone), is_active=given(active),
                              is_superuser=given(superuser))
    Output(json_output, quiet).item(user)


@app.command("deactivate")
@handle_errors
@operation("deactivate_user")
def deactivate(user_id: IdArg,
               yes: YesOption = False,
               json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Deactivate a user: sessions, keys and OAuth clients are revoked (superuser)."""
    confirm(f"Deactivate {user_id}?", yes)
    with client() as c:
        c.users.deactivate(user_id)
    Output(json_output, quiet).done(f"Deactivated {user_id}", id=user_id, deactivated=True)
