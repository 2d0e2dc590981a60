"""The public surface keeps its promises: documented models and methods, path args positional and everything else
keyword-only, and an asyncio client that mirrors the blocking one."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

import s4e.models
import s4e.resources
from s4e import AsyncS4EClient, S4EClient

# Bulk helpers take their one collection positionally, like a path argument.
POSITIONAL_DATA = {"items", "asset_ids", "file"}


def public_models() -> list[type[BaseModel]]:
    models = [getattr(s4e.models, name) for name in s4e.models.__all__]
    return [m for m in models if inspect.isclass(m) and issubclass(m, BaseModel)]


def resource_classes() -> list[type]:
    classes = []
    for info in pkgutil.iter_modules(s4e.resources.__path__):
        module = importlib.import_module(f"s4e.resources.{info.name}")
        classes += [c for _, c in inspect.getmembers(module, inspect.isclass)
                    if c.__module__ == module.__name__ and not c.__name__.startswith("_")
                    and c.__name__ not in ("SyncResource", "AsyncResource")]
    return classes


def public_methods(cls: type) -> dict[str, object]:
    return {name: fn for name, fn in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


@pytest.mark.parametrize("model", public_models(), ids=lambda m: m.__name__)
def test_every_model_and_field_is_documented(model):
    assert (model.__doc__ or "").strip(), f"{model.__name__} has no docstring"
    undocumented = [name for name, field in model.model_fields.items() if not (field.description or "").strip()]
    assert undocumented == [], f"{model.__name__} fields without a docstring: {undocumented}"


@pytest.mark.parametrize("cls", resource_classes(), ids=lambda c: c.__name__)
def test_resource_methods_are_documented_and_take_options_by_keyword(cls):
    methods = public_methods(cls)
    assert methods
    for name, fn in methods.items():
        assert (fn.__doc__ or "").strip(), f"{cls.__name__}.{name} has no docstring"
        positional = [p.name for p in inspect.signature(fn).parameters.values()
                      if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
        assert all(p.endswith("_id") or p in POSITIONAL_DATA for p in positional), (cls.__name__, name, positional)


def test_async_client_mirrors_the_sync_client():
    sync = S4EClient(api_key="k", base_url="http://api.test/api/v1")
    asyncc = AsyncS4EClient(api_key="k", base_url="http://api.test/api/v1")
    pairs = [(getattr(sync, area), getattr(asyncc, area)) for area in S4EClient.__annotations__]
    pairs += [(sync.assets.verification, asyncc.assets.verification), (sync.webhooks.deliveries,
              asyncc.webhooks.deliveries), (sync.workspaces.members, asyncc.workspaces.members),
              (sync.workspaces.invitations, asyncc.workspaces.invitations), (sync.oauth.clients, asyncc.oauth.clients)]
    for blocking, awaiting in pairs:
        ours, theirs = public_methods(type(blocking)), public_methods(type(awaiting))
        assert ours.keys() == theirs.keys(), type(blocking).__name__
        for name in ours:
            assert list(inspect.signature(ours[name]).parameters) == list(inspect.signature(theirs[name]).parameters)
            returns_pager = name.startswith("list") or name == "stream"
            assert inspect.iscoroutinefunction(theirs[name]) is not returns_pager, (type(awaiting).__name__, name)
    assert set(S4EClient.__annotations__) == {"assets", "events", "webhooks", "keys", "workspaces", "users", "oauth",
                                              "auth", "meta", "scanners", "findings",
                                              "scans", "scan_profiles", "services"}


@pytest.mark.skipif(not hasattr(sys, "stdlib_module_names"), reason="needs Python 3.10+ to tell stdlib apart")
def test_the_library_imports_only_httpx_and_pydantic():
    root = Path(s4e.models.__file__).resolve().parents[1]
    imported: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        if "cli" in path.relative_to(root).parts:
            continue  # the command adds typer and rich
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                imported.setdefault(name.split(".")[0], set()).add(path.name)
    third_party = {m: files for m, files in imported.items()
                   if m not in sys.stdlib_module_names and m not in ("s4e", "__future__")}
    assert set(third_party) == {"httpx", "pydantic"}, third_party
