"""`s4e findings comments ...`: list, add, edit, delete a finding's comments."""

# No `from __future__ import annotations` here: on Python 3.9 Typer reads option declarations from the
# evaluated signature, so these annotations must be real objects (hence Optional[...] rather than `X | None`).

import sys
from typing import Annotated

import typer

from s4e._operations import operation
from s4e.cli.config import client
from s4e.cli.output import (
    AllOption,
    JsonOption,
    Output,
    PageOption,
    PerPageOption,
    QuietOption,
    SortOrderOption,
    YesOption,
    collect,
    confirm,
    given,
    handle_errors,
)

app = typer.Typer(help="Comments on a finding (Markdown).", no_args_is_help=True)

COLUMNS = ["id", "author.name", "created_at", "body"]
FindingArg = Annotated[str, typer.Argument(help="Finding id (fnd_...).")]
CommentArg = Annotated[str, typer.Argument(help="Comment id (cmt_...).")]
BodyArg = Annotated[str, typer.Argument(help="Markdown text, or '-' to read it from stdin.")]


def _text(body: str) -> str:
    return sys.stdin.read() if body == "-" else body


@app.command("list")
@handle_errors
@operation("list_finding_comments")
def list_comments(finding_id: FindingArg, sort_order: SortOrderOption = None, page: PageOption = 1,
                  per_page: PerPageOption = None, all_pages: AllOption = False, json_output: JsonOption = False,
                  quiet: QuietOption = False) -> None:
    """List a finding's comments (newest first)."""
    with client() as c:
        pager = c.findings.list_comments(finding_id, sort_order=given(sort_order), page=page,
                                         per_page=given(per_page))
        items, caption = collect(pager, all_pages)
    Output(json_output, quiet).items(items, COLUMNS, caption)


@app.command("add")
@handle_errors
@operation("create_finding_comment")
def add_comment(finding_id: FindingArg, body: BodyArg, json_output: JsonOption = False,
                quiet: QuietOption = False) -> None:
    """Add a comment."""
    with client() as c:
        comment = c.findings.add_comment(finding_id, body=_text(body))
    Output(json_output, quiet).item(comment, ["id", "finding_id", "author.name", "created_at", "body"])


@app.command("edit")
@handle_errors
@operation("update_finding_comment")
def edit_comment(finding_id: FindingArg, comment_id: CommentArg, body: BodyArg, json_output: JsonOption = False,
                 quiet: QuietOption = False) -> None:
    """Edit a comment (its author or a workspace admin)."""
    with client() as c:
        comment = c.findings.update_comment(finding_id, comment_id, body=_text(body))
    Output(json_output, quiet).item(comment, ["id", "finding_id", "author.name", "updated_at", "body"])


@app.command("delete")
@handle_errors
@operation("delete_finding_comment")
def delete_comment(finding_id: FindingArg, comment_id: CommentArg, yes: YesOption = False,
                   json_output: JsonOption = False, quiet: QuietOption = False) -> None:
    """Delete a comment (its author or a workspace admin)."""
    confirm(f"Delete comment {comment_id}?", yes)
    with client() as c:
        c.findings.delete_comment(finding_id, comment_id)
    Output(json_output, quiet).done(f"Deleted {comment_id}", id=comment_id, deleted=True)
