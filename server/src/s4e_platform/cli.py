"""`s4e server ...`: operator verbs (up, api, worker, scheduler, migrate, create-admin)."""

from __future__ import annotations

import os
import signal
import sys
import threading

import typer

app = typer.Typer(help="Run and operate the S4E platform.", no_args_is_help=True)


def _settings():
    from s4e_platform.config import get_settings, reset_settings

    reset_settings()
    return get_settings()


def _migrate() -> None:
    from s4e_platform.db.migrate import upgrade

    upgrade(_settings().effective_database_url)


@app.command()
def migrate() -> None:
    """Apply database migrations (SQLite or PostgreSQL, same migrations)."""
    _migrate()
    typer.echo("migrations at head")


@app.command("create-admin")
def create_admin(email: str = typer.Option(..., help="Admin e-mail"),
                 password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
                 workspace: str = typer.Option(None, help="Also create a workspace with this name")) -> None:
    """Create (or promote) an instance superuser."""
    from s4e_platform.bootstrap import create_admin as do_create
    from s4e_platform.errors import APIError

    _migrate()
    try:
        user_id = do_create(email, password, workspace)
    except APIError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"superuser {email} ({user_id})")


def _serve(host: str, port: int, background) -> None:
    import uvicorn

    from s4e_platform.main import create_app

    config = uvicorn.Config(create_app(), host=host, port=port, log_config=None, access_log=False,
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:
        if background is not None:
            background.shutdown()


@app.command()
def up() -> None:
    """Embedded platform: one process, SQLite, in-process publisher and workers, no broker."""
    from s4e_platform.bootstrap import ensure_admin
    from s4e_platform.runtime.background import Background

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.resolved_secret_key()
    _migrate()
    created = ensure_admin(settings.admin_email, settings.admin_password)
    url = f"http://{settings.host}:{settings.port}"
    if created:
        email, generated = created
        typer.echo(f"Created admin {email} and workspace 'Default'.")
        if generated:
            typer.echo(f"Generated admin password (shown once): {generated}")
    typer.echo(f"S4E embedded platform on {url}  (API docs {url}/api/docs)")
    typer.echo(f"Log in: POST {url}/api/v1/auth/login with the admin e-mail and password (console session); "
               f"create an API key with POST {url}/api/v1/api-keys, then `s4e login --base-url {url}/api/v1`.")
    bg = Background()
    bg.start_publisher()
    bg.start_delivery_workers()
    bg.start_dispatcher()
    bg.start_scheduler()
    _serve(settings.host, settings.port, bg)


@app.command()
def api() -> None:
    """API process for scale-out (S4E_DATABASE_URL=postgresql+psycopg://..., S4E_REDIS_URL)."""
    from s4e_platform.db.migrate import is_current
    from s4e_platform.db.session import get_engine
    from s4e_platform.runtime.background import Background

    settings = _settings()
    if not is_current(get_engine()):
        typer.echo("database schema is not at head: run `s4e server migrate` first", err=True)
        raise typer.Exit(1)
    bg = Background()
    bg.start_redis_bridge()
    _serve(settings.host, settings.port, bg)


def _run_until_signal(bg) -> None:
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    bg.shutdown()


@app.command()
def scheduler() -> None:
    """Scheduler leader: the event publisher, the scan task release loop, scan profile schedules and periodic jobs
    (one leader each, database leases)."""
    from s4e_platform.kit.logging import configure
    from s4e_platform.runtime.background import Background

    configure(_settings().log_level)
    bg = Background()
    bg.start_redis_bridge()
    bg.start_publisher()
    bg.start_dispatcher()
    bg.start_scheduler()
    typer.echo(f"scheduler running (pid {os.getpid()})")
    _run_until_signal(bg)


@app.command()
def worker() -> None:
    """Worker process: webhook deliveries, and with S4E_BROKER_URL a Celery worker on the scan queues (rows are
    the jobs; safe to run many)."""
    from s4e_platform.kit.logging import configure
    from s4e_platform.runtime.background import Background

    settings = _settings()
    configure(settings.log_level)
    bg = Background()
    bg.start_delivery_workers()
    typer.echo(f"worker running (pid {os.getpid()})")
    if not settings.broker_url:
        _run_until_signal(bg)
        return
    from s4e_platform.worker import celery_app

    queues = ",".join(celery_app.queue_name(q) for q in celery_app.TASK_QUEUES)
    try:  # Celery owns the main thread and the signals; it returns on SIGTERM/SIGINT (warm shutdown)
        celery_app.app.worker_main(["worker", "-Q", queues, "--pool", "threads",
                                    "-c", str(settings.executor_concurrency), "--loglevel", settings.log_level,
                                    "-n", f"s4e-{os.getpid()}@%h", "--without-gossip", "--without-mingle"])
    finally:
        bg.shutdown()


def main() -> None:  # `python -m s4e_platform.cli`
    app(prog_name="s4e server")


if __name__ == "__main__":
    sys.exit(main())
