"""`s4e` command tests: a CliRunner, and `s4e(...)` running the command in-process against the platform app."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from typer.testing import CliRunner

from s4e.cli.app import app
from s4e.cli.config import CliState

BASE_URL = "http://testserver/api/v1"


def make_runner() -> CliRunner:
    """stdout and stderr kept apart (click < 8.2 mixes them unless told not to)."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


@pytest.fixture
def runner() -> CliRunner:
    return make_runner()


@pytest.fixture
def s4e(platform, runner) -> Callable[..., Result]:
    """Run `s4e ...` in-process against the platform app with the admin's key in S4E_API_KEY; `key=` picks
    another member's key (None: no key), `input=` feeds prompts, other keywords are environment variables."""

    def run(*args: str, key: str | None = "admin", input: str | None = None, **env: str | None) -> Result:
        environ = {"COLUMNS": "200", "S4E_BASE_URL": BASE_URL,
                   "S4E_API_KEY": platform.tenant.keys[key] if key else None, **env}
        return runner.invoke(app, list(args), env=environ, input=input, obj=CliState(http_client=platform.http))

    return run


@pytest.fixture
def s4e_json(s4e) -> Callable[..., object]:
    """`s4e(..., "--json")` that must succeed, returning the parsed stdout."""

    def run(*args: str, **kwargs) -> object:
        result = s4e(*args, "--json", **kwargs)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return run
