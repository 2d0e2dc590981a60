"""Root of the `s4e` command: client verbs over REST, plus `s4e server ...` when s4e-platform is installed."""

from __future__ import annotations

import typer

app = typer.Typer(help="S4E command line: assets, scans, findings, events, webhooks ...", no_args_is_help=True)


def _attach_server() -> None:
    try:
        from s4e_platform.cli import app as server_app
    except ImportError:
        return
    app.add_typer(server_app, name="server", help="Run and operate the platform (s4e-platform installed).")


_attach_server()


def run() -> None:
    app(prog_name="s4e")
