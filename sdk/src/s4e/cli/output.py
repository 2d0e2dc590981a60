"""How every `s4e` command prints: Rich tables by default, `--json` for machines, `--quiet` for ids only; and
how failures become messages and exit codes (never a traceback for an API error).

Exit codes: 0 success, 1 API or connection error, 2 usage error (bad arguments, invalid input, missing
configuration such as no API key), 3 not found, 130 interrupted.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Annotated, Any, Callable, Optional, TypeVar

import typer
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from s4e._types import NOT_GIVEN
from s4e.errors import APIError, ConfigurationError, NotFoundError, S4EError, ValidationError

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print ids only.")]
PageOption = Annotated[int, typer.Option("--page", min=1, help="Page to show.")]
PerPageOption = Annotated[Optional[int], typer.Option("--per-page", min=1, max=100,
                                                      help="Items per page (max 100).")]
AllOption = Annotated[bool, typer.Option("--all", help="Fetch every page (from --page on).")]
SortOrderOption = Annotated[Optional[str], typer.Option("--sort-order", help="asc or desc (default desc).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]

F = TypeVar("F", bound=Callable[..., Any])


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), default=str) if value else "-"
    return str(value)


def _get(model: BaseModel, path: str) -> Any:
    value: Any = model
    for part in path.split("."):
        value = getattr(value, part, None) if not isinstance(value, dict) else value.get(part)
    return value


class Output:
    """Printer for one command invocation."""

    def __init__(self, json_output: bool = False, quiet: bool = False) -> None:
        self.json = json_output
        self.quiet = quiet and not json_output
        self.out = Console(soft_wrap=False)
        self.err = Console(stderr=True)

    def _print_json(self, data: Any) -> None:
        typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))

    def item(self, model: BaseModel, fields: Sequence[str] | None = None, title: str | None = None) -> None:
        """One object: a field/value table, its JSON, or its id."""
        if self.json:
            return self._print_json(model.model_dump(mode="json"))
        if self.quiet:
            return typer.echo(_cell(_get(model, "id")))
        table = Table(show_header=False, title=title, title_justify="left", box=None, pad_edge=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        names = fields or [*type(model).model_fields, *(model.model_extra or {})]
        for name in names:
            table.add_row(name, escape(_cell(_get(model, name))))
        self.out.print(table)

    def items(self, models: Iterable[BaseModel], columns: Sequence[str], caption: str | None = None,
              id_field: str = "id") -> None:
        """A list: a table with `columns`, a JSON array, or one id per line."""
        if self.json:
            return self._print_json([m.model_dump(mode="json") for m in models])
        if self.quiet:
            for m in models:
                typer.echo(_cell(_get(m, id_field)))
            return
        table = Table(caption=caption, caption_justify="left")
        for column in columns:
            table.add_column(column.split(".")[-1], overflow="fold")
        for m in models:
            table.add_row(*(escape(_cell(_get(m, c))) for c in columns))
        self.out.print(table)

    def done(self, message: str, **data: Any) -> None:
        """Outcome of an action without a resource to show (delete, revoke)."""
        if self.json:
            return self._print_json(data)
        if self.quiet:
            return
        self.err.print(escape(message))

    def error(self, exc: BaseException) -> None:
        """Report a failure on stderr (JSON with --json)."""
        if self.json:
            body: dict[str, Any] = {"code": getattr(exc, "code", "error"), "message": getattr(exc, "message", str(exc))}
            if isinstance(exc, APIError):
                body.update(status=exc.status_code, details=exc.details, request_id=exc.request_id)
            typer.echo(json.dumps({"error": body}, default=str), err=True)
            return
        if isinstance(exc, S4EError):
            text = f"[bold red]Error:[/] {escape(exc.message)} [dim]({escape(exc.code)}"
            text += f", request {escape(exc.request_id)})[/]" if exc.request_id else ")[/]"
            self.err.print(text)
            if isinstance(exc, ValidationError):
                for field in exc.errors:
                    self.err.print(f"  {escape(field.path)}: {escape(field.message)}")
        elif isinstance(exc, PydanticValidationError):
            for problem in exc.errors():
                where = ".".join(str(p) for p in problem.get("loc", ())) or "input"
                self.err.print(f"[bold red]Error:[/] {escape(where)}: {escape(problem.get('msg', 'invalid'))}")
        else:
            self.err.print(f"[bold red]Error:[/] {escape(str(exc))}")


def exit_code(exc: BaseException) -> int:
    """The documented exit code of a failure."""
    if isinstance(exc, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(exc, (ConfigurationError, PydanticValidationError, ValueError, OSError)):
        return EXIT_USAGE
    return EXIT_API_ERROR


def handle_errors(fn: F) -> F:
    """Turn SDK failures into a message and an exit code (see the module docstring)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = Output(kwargs.get("json_output", False), kwargs.get("quiet", False))
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            out.err.print("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (S4EError, PydanticValidationError, ValueError, OSError) as exc:
            out.error(exc)
            raise typer.Exit(exit_code(exc)) from None

    return wrapper  # type: ignore[return-value]


def confirm(prompt: str, yes: bool) -> None:
    """Ask before a destructive action unless `--yes`; with no terminal, `--yes` is required."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise typer.BadParameter("refusing to prompt without a terminal; pass --yes")
    if not typer.confirm(prompt, err=True):  # stderr: stdout may be piped into another program
        raise typer.Abort()


def given(value: Any) -> Any:
    """An option the user left out (None) becomes NOT_GIVEN, so the SDK does not send it."""
    return NOT_GIVEN if value is None else value


def collect(pager: Any, all_pages: bool) -> tuple[list[Any], Optional[str]]:
    """The items to show and a caption: one page (with its position), or every page with --all."""
    if all_pages:
        items = [*pager]
        return items, f"{len(items)} total"
    first = pager.first_page()
    return first.data, page_caption(first)


def page_caption(page: Any) -> Optional[str]:
    """`Page 2/5, 97 total` under a one-page table, pointing at --page/--all."""
    meta = page.meta
    if meta.total_pages <= 1:
        return f"{meta.total} total"
    return f"Page {meta.page}/{meta.total_pages}, {meta.total} total (--page N or --all)"
