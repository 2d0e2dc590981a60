"""`s4e users ...`: my profile, and instance users for superusers."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

from typing import Annotated, Optional

import typer

from s4e._types import NOT_GIVEN
from s4e.cli.config import client
from s4e.cli.output import JsonOption, Output, QuietOption, confirm, handle_errors, page_caption

app = typer.Typer(help="Users of the instance.", no_args_is_help=True)

COLUMNS = ["id", "email", "name", "is_active", "is_superuser", "mfa_enabled", "last_login_at"]
IdArg = Annotated[str, typer.Argument(help="User id (usr_...).")]


def _given(value):
    return NOT_GIVEN if value is None else value


@app.command("me")
@handle_errors
def me(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show my profile."""
    with client() as c:
        user = c.users.me()
    Output(json_output, quiet).item(user)


@app.command("list")
@handle_errors
def list_users(
    search: Annotated[Optional[str], typer.Option("--search", help="Email or name contains.")] = None,
    active: Annotated[Optional[bool], typer.Option("--active/--inactive", help="Account state.")] = None,
    page: Annotated[int, typer.Option("--page", min=1, help="Page to show.")] = 1,
    all_pages: Annotated[bool, typer.Option("--all", help="Fetch every page.")] = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """List every user of the instance (superuser)."""
    with client() as c:
        pager = c.users.list(search=_given(search), is_active=_given(active), page=page)
        if all_pages:
            items, caption = [*pager], None
        else:
            first = pager.first_page()
            items, caption = first.data, page_caption(first)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("get")
@handle_errors
def get_user(user_id: IdArg, json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show one user."""
    with client() as c:
        user = c.users.get(user_id)
    Output(json_output, quiet).item(user)


@app.command("create")
@handle_errors
def create_user(
    email: Annotated[str, typer.Argument(help="Login email.")],
    name: Annotated[Optional[str], typer.Option("--name", help="Display name.")] = None,
    set_password: Annotated[bool, typer.Option("--password", help="Prompt for a password (12-256 characters).")]
    = False,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Create a user (superuser); without --password they cannot sign in until one is set."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True) if set_password else NOT_GIVEN
    with client() as c:
        user = c.users.create(email=email, name=_given(name), password=password)
    Output(json_output, quiet).item(user)


@app.command("update")
@handle_errors
def update_user(
    user_id: IdArg,
    name: Annotated[Optional[str], typer.Option("--name", help="Display name.")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", help="IANA time zone.")] = None,
    active: Annotated[Optional[bool], typer.Option("--active/--inactive", help="Account state (superuser).")]
    = None,
    superuser: Annotated[Optional[bool], typer.Option("--superuser/--no-superuser", help="Superuser flag.")]
    = None,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Change a user."""
    with client() as c:
        user = c.users.update(user_id, name=_given(name), timezone=_given(timezone), is_active=_given(active),
                              is_superuser=_given(superuser))
    Output(json_output, quiet).item(user)


@app.command("deactivate")
@handle_errors
def deactivate(user_id: IdArg,
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
               json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Deactivate a user: sessions, keys and OAuth clients are revoked (superuser)."""
    confirm(f"Deactivate {user_id}?", yes)
    with client() as c:
        c.users.deactivate(user_id)
    Output(json_output, quiet).done(f"Deactivated {user_id}", id=user_id, deactivated=True)
