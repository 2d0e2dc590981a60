"""The `s4e` command."""


def main() -> None:
    from s4e.cli.app import run

    run()
