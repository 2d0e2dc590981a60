"""Every operation the SDK covers was driven through the SDK by the contract tests of this run (the check runs
last, and only when the whole contract suite ran and passed: a partial run proves nothing either way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from s4e._operations import EXCLUDED

HERE = Path(__file__).resolve().parent


def _whole_suite_ran(request) -> bool:
    config = request.config
    if config.option.keyword or config.option.markexpr or request.session.testsfailed:
        return False
    if any("::" in str(arg) for arg in config.args):
        return False
    selected = {Path(str(item.fspath)).name for item in request.session.items
                if Path(str(item.fspath)).resolve().parent == HERE}
    return selected == {p.name for p in HERE.glob("test_*.py")}


def test_every_covered_operation_was_exercised(request, platform, exercised):
    if not _whole_suite_ran(request):
        pytest.skip("needs the whole contract suite in this run, without failures")
    spec = platform.http.app.openapi()
    operations = {op["operationId"] for item in spec["paths"].values() for op in item.values()
                  if isinstance(op, dict) and "operationId" in op}
    missing = sorted(operations - set(EXCLUDED) - exercised)
    assert missing == [], f"operations no contract test drives through the SDK: {missing}"
