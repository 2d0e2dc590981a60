"""Root of the `s4e` command: client verbs over REST, plus `s4e server ...` when s4e-platform is installed."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

from typing import Annotated, Optional

import typer

from s4e.cli import (
    assets,
    config,
    events,
    findings,
    keys,
    oauth,
    scan_profiles,
    scanners,
    scans,
    services,
    users,
    webhooks,
    workspaces,
)
from s4e.cli.output import handle_errors

EPILOG = ("Connection: `s4e login` saves a profile; S4E_API_KEY, S4E_BASE_URL, S4E_WORKSPACE and S4E_PROFILE "
          "override it. Output: tables by default, --json for machines, --quiet for ids only. Exit codes: 0 ok, "
          "1 API or connection error, 2 usage error (bad arguments, invalid input, no API key), 3 not found, "
          "130 interrupted.")

app = typer.Typer(help="S4E command line: assets, scans, findings, events, webhooks ...", no_args_is_help=True,
                  epilog=EPILOG)


@app.callback()
def main(
    ctx: typer.Context,
    profile: Annotated[Optional[str], typer.Option("--profile", "-p", help="Connection profile (env S4E_PROFILE).")]
    = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="API root, overriding the profile.")] = None,
) -> None:
    """S4E command line."""
    state = ctx.obj if isinstance(ctx.obj, config.CliState) else config.CliState()
    state.profile = profile or state.profile
    state.base_url = base_url or state.base_url
    ctx.obj = state
    config.use_state(state)


app.command("login")(handle_errors(config.login))
app.command("whoami")(handle_errors(config.whoami))
app.command("meta")(handle_errors(config.server_meta))
app.add_typer(config.app, name="config")
app.add_typer(assets.app, name="assets")
app.add_typer(services.app, name="services")
app.add_typer(findings.app, name="findings")
app.add_typer(events.app, name="events")
app.add_typer(scans.app, name="scans")
app.add_typer(scanners.app, name="scanners")
app.add_typer(scan_profiles.app, name="scan-profiles")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(keys.app, name="keys")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(users.app, name="users")
app.add_typer(oauth.app, name="oauth")


def _attach_server() -> None:
    try:
        from s4e_platform.cli import app as server_app
    except ImportError:
        return
    app.add_typer(server_app, name="server", help="Run and operate the platform (s4e-platform installed).")


_attach_server()


def run() -> None:
    app(prog_name="s4e")
