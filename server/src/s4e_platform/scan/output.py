"""`GET /scans/{id}/output`: the tasks' raw output as JSON Lines, in task order.

Scanners write JSON lines (the template engine's are nuclei-compatible) or plain text (port tables, TLS
reports). JSON object lines pass through with `task_id`/`scanner` added when absent; any other line becomes
`{"task_id", "scanner", "target", "output": <the line>}`, so every line of the stream is one JSON object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select

from s4e_platform.db.session import unit_of_work
from s4e_platform.scan.models import ScanTask

BATCH = 20  # tasks loaded at a time: raw output can be large, and the response is streamed


def _line(task: ScanTask, text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            obj.setdefault("task_id", task.id)
            obj.setdefault("scanner", task.scanner)
            return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return json.dumps({"task_id": task.id, "scanner": task.scanner, "target": (task.target or {}).get("value"),
                       "output": text}, separators=(",", ":"), ensure_ascii=False)


def lines(task_ids: list[str]) -> Iterator[bytes]:
    """The stream body. It runs after the request's session has closed, so it reads in its own sessions."""
    for start in range(0, len(task_ids), BATCH):
        chunk = task_ids[start:start + BATCH]
        with unit_of_work(readonly=True) as session:
            rows = {t.id: t for t in session.execute(select(ScanTask).where(ScanTask.id.in_(chunk))).scalars()}
            session.expunge_all()
        for task_id in chunk:
            task = rows.get(task_id)
            if task is None or not task.raw_output:
                continue
            text = task.raw_output[:-1] if task.raw_output.endswith("\n") else task.raw_output
            yield ("\n".join(_line(task, line.rstrip("\r")) for line in text.split("\n")) + "\n").encode()
