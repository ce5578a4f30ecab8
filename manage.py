#!/usr/bin/env python
import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["extract"]:
        # Extraction is pure Python and writes nothing: it runs without settings, a database
        # or a secret key, so `manage.py extract` works on a bare checkout (the eval contract).
        try:
            from tracker.extraction import run_cli
        except ModuleNotFoundError as exc:
            sys.exit(f"manage.py extract: {exc.name} is not installed; run `make setup` first")
        code = run_cli(
            sys.argv[2:],
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            prog="manage.py extract",
        )
        sys.exit(code)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
