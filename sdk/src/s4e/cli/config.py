"""`s4e login`, `s4e whoami` and `s4e config ...`: named connection profiles, and the client every command uses.

Profiles live in the user's config directory (see `s4e config path`), mode 0600. Environment variables override
the profile: S4E_API_KEY, S4E_BASE_URL, S4E_WORKSPACE, and S4E_PROFILE picks the profile.
"""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Optional

import httpx
import typer

from s4e._client import S4EClient
from s4e._config import DEFAULT_PROFILE, PROFILE_KEYS, ConfigFile, check_profile_name, config_path, resolve
from s4e._operations import operation
from s4e.cli.output import JsonOption, Output, QuietOption, handle_errors
from s4e.errors import ConfigurationError
from s4e.models._base import S4EModel

app = typer.Typer(help="Show and edit connection profiles.", no_args_is_help=True)


@dataclass
class CliState:
    """Options of the root command, plus an injectable HTTP client (an in-process app, custom TLS)."""

    profile: Optional[str] = None
    base_url: Optional[str] = None
    http_client: Optional[httpx.Client] = None


_state: ContextVar[Optional[CliState]] = ContextVar("s4e_cli_state", default=None)


def use_state(state: CliState) -> None:
    """Called by the root command with its options (and whatever `obj` the caller injected)."""
    _state.set(state)


def state() -> CliState:
    return _state.get() or CliState()


def client(*, api_key: Optional[str] = None, base_url: Optional[str] = None, profile: Optional[str] = None,
           client_id: Optional[str] = None, client_secret: Optional[str] = None,
           require_key: bool = True) -> S4EClient:
    """The SDK client for this invocation (flags > environment > profile)."""
    st = state()
    settings = resolve(api_key=api_key, base_url=base_url or st.base_url, profile=profile or st.profile,
                       client_id=client_id, client_secret=client_secret)
    if require_key and not (settings.api_key or settings.client_id):
        raise ConfigurationError("No API key: run `s4e login` or set S4E_API_KEY (or S4E_CLIENT_ID and "
                                 "S4E_CLIENT_SECRET of an OAuth client)")
    return S4EClient(api_key=settings.api_key, base_url=settings.base_url, workspace=settings.workspace,
                     http_client=st.http_client, client_id=settings.client_id,
                     client_secret=settings.client_secret)


def _mask(key: Optional[str]) -> Optional[str]:
    if not key:
        return None
    return key[:13] + "..." if len(key) > 16 else "***"


class ProfileView(S4EModel):
    """A profile as shown by `s4e config`."""

    id: str
    """Profile name."""
    base_url: Optional[str] = None
    """API root."""
    api_key: Optional[str] = None
    """Masked API key."""
    workspace: Optional[str] = None
    """Workspace header sent, if any."""
    is_default: bool = False
    """Used when no profile is named."""


def _view(config: ConfigFile, name: str) -> ProfileView:
    values = config.profile(name)
    return ProfileView(id=name, base_url=values.get("base_url"), api_key=_mask(values.get("api_key")),
                       workspace=values.get("workspace"), is_default=name == config.default_profile)


def login(
    api_key: Annotated[Optional[str], typer.Option("--api-key", help="API key (prompted for when omitted).")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="API root, e.g. https://s4e.example/api/v1")]
    = None,
    profile: Annotated[Optional[str], typer.Option("--profile", "-p", help="Profile to save into.")] = None,
    workspace: Annotated[Optional[str], typer.Option("--workspace", help="Workspace id to send (session use).")]
    = None,
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Check the key against the API first.")]
    = True,
    json_output: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Save an API key (and base URL) in a profile after checking it with the API."""
    out = Output(json_output, quiet)
    name = check_profile_name(profile or state().profile or DEFAULT_PROFILE)
    config = ConfigFile.load()
    stored = config.profile(name)
    key = api_key or typer.prompt("API key", hide_input=True, err=True)
    url = (base_url or state().base_url or stored.get("base_url") or resolve(profile=None).base_url).rstrip("/")
    if verify:
        with S4EClient(api_key=key, base_url=url, workspace=workspace, http_client=state().http_client) as c:
            me = c.auth.me()
        who = f"{me.user.email} in {me.workspace.name if me.workspace else '-'} ({me.role or '-'})"
    else:
        who = "key not checked"
    config.set(name, api_key=key, base_url=url, workspace=workspace)
    if len(config.profiles) == 1:
        config.default_profile = name
    config.save()
    out.done(f"Saved profile {name!r} ({who}) to {config.path}", profile=name, base_url=url,
             path=str(config.path))


@operation("get_me")
def whoami(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show the user, workspace, role and scopes of the current credential."""
    out = Output(json_output, quiet)
    with client() as c:
        me = c.auth.me()
    if out.quiet:
        typer.echo(me.key_id or me.user.id)
        return
    out.item(me, ["user.email", "user.id", "workspace.name", "workspace.id", "role", "auth_method", "key_id",
                  "scopes"])


@operation("get_meta")
def server_meta(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show the server's version, mode (embedded or scale_out) and optional features."""
    out = Output(json_output, quiet)
    with client() as c:
        meta = c.meta.get()
    if out.quiet:
        typer.echo(meta.version)
        return
    out.item(meta, ["version", "mode", "features"])


@app.command("path")
def show_path() -> None:
    """Print where profiles are stored."""
    typer.echo(str(config_path()))


@app.command("list")
@handle_errors
def list_profiles(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """List profiles (API keys masked)."""
    config = ConfigFile.load()
    Output(json_output, quiet).items([_view(config, n) for n in sorted(config.profiles)],
                                     ["id", "is_default", "base_url", "api_key", "workspace"])


@app.command("show")
@handle_errors
def show(json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Show the effective settings: flags, then environment, then the profile (API key masked)."""
    st = state()
    settings = resolve(profile=st.profile, base_url=st.base_url)
    view = ProfileView(id=settings.profile, base_url=settings.base_url, api_key=_mask(settings.api_key),
                       workspace=settings.workspace,
                       is_default=settings.profile == ConfigFile.load().default_profile)
    Output(json_output, quiet).item(view)


@app.command("set")
@handle_errors
def set_value(
    key: Annotated[str, typer.Argument(help=f"One of: {', '.join(PROFILE_KEYS)}")],
    value: Annotated[str, typer.Argument(help="New value (empty string removes it)")],
    profile: Annotated[Optional[str], typer.Option("--profile", "-p", help="Profile to change.")] = None,
) -> None:
    """Set one setting of a profile."""
    config = ConfigFile.load()
    name = profile or state().profile or config.default_profile
    config.set(name, **{key: value})
    config.save()
    typer.echo(f"{name}: {key} {'set' if value else 'removed'}", err=True)


@app.command("use")
@handle_errors
def use(name: Annotated[str, typer.Argument(help="Profile to use by default")]) -> None:
    """Make a profile the default."""
    config = ConfigFile.load()
    if name not in config.profiles:
        raise ConfigurationError(f"No profile named {name!r}")
    config.default_profile = name
    config.save()
    typer.echo(f"default profile: {name}", err=True)


@app.command("remove")
@handle_errors
def remove(name: Annotated[str, typer.Argument(help="Profile to delete")]) -> None:
    """Delete a profile and its stored key."""
    config = ConfigFile.load()
    config.remove(name)
    config.save()
    typer.echo(f"removed profile {name}", err=True)
