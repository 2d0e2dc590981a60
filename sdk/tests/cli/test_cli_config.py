"""`s4e config ...` and the command tree, without a server: profiles on disk, env overrides, help for every
command (which makes Typer evaluate every annotation, as Python 3.9 would)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from s4e.cli.app import app


def make_runner() -> CliRunner:
    """stdout and stderr kept apart (click < 8.2 mixes them unless told not to)."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


runner = make_runner()


def s4e(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env})


def command_paths(typer_app=app, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    """Every command of the tree, nested groups included (`oauth clients list`)."""
    paths = [[*prefix, c.name or c.callback.__name__] for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        if group.name != "server":  # the platform's own commands, tested with the platform
            paths += command_paths(group.typer_instance, (*prefix, group.name))
    return paths


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_has_help(path):
    result = s4e(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_profiles_set_use_list_remove(isolated_env):
    assert s4e("config", "set", "base_url", "https://a.example/api/v1", "--profile", "a").exit_code == 0
    assert s4e("config", "set", "api_key", "s4e_live_" + "a" * 40, "--profile", "a").exit_code == 0
    assert s4e("config", "set", "base_url", "https://b.example/api/v1", "--profile", "b").exit_code == 0
    listed = json.loads(s4e("config", "list", "--json").stdout)
    assert [p["id"] for p in listed] == ["a", "b"]
    assert listed[0]["api_key"] == "s4e_live_aaaa..."  # masked
    assert s4e("config", "use", "b").exit_code == 0
    shown = json.loads(s4e("config", "show", "--json").stdout)
    assert shown["id"] == "b" and shown["base_url"] == "https://b.example/api/v1" and shown["is_default"]
    overridden = json.loads(s4e("--profile", "a", "config", "show", "--json").stdout)
    assert overridden["base_url"] == "https://a.example/api/v1"
    env = json.loads(s4e("config", "show", "--json", S4E_PROFILE="a", S4E_BASE_URL="http://c/api/v1").stdout)
    assert env["id"] == "a" and env["base_url"] == "http://c/api/v1"
    assert s4e("config", "use", "nope").exit_code == 2
    assert s4e("config", "set", "colour", "red").exit_code == 2
    assert s4e("config", "remove", "b").exit_code == 0
    assert [p["id"] for p in json.loads(s4e("config", "list", "--json").stdout)] == ["a"]
    path = s4e("config", "path").stdout.strip()
    assert path == str(isolated_env / "config" / "s4e" / "config.json")


def test_corrupt_config_is_a_usage_error_not_a_traceback(isolated_env):
    target = isolated_env / "config" / "s4e" / "config.json"
    target.parent.mkdir(parents=True)
    target.write_text("{not json")
    result = s4e("assets", "list")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr and "Traceback" not in result.output


def test_destructive_commands_need_yes_without_a_terminal():
    result = s4e("assets", "delete", "ast_01hv8x5m3t9q4zc2n7k1r6pbde", S4E_API_KEY="k")
    assert result.exit_code == 2 and "--yes" in result.stderr
