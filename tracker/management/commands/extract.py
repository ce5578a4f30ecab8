import sys

from django.core.management.base import BaseCommand

from tracker.extraction import run_cli


class Command(BaseCommand):
    help = (
        "Print the withdrawals an article states, as JSON or text. Writes nothing. Each "
        "withdrawal has deploying, host, personnel, announced_on, deadline, completed_on, "
        "milestones, phases (parts with their own scope, deadline, completed_on, personnel) and "
        "a confidence in [0, 1]; each date has its precision, evidence, confidence and anchored "
        "(false when read from a relative expression with no --published, dateline or year in "
        "the text). Fields: docs/extraction.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a UTF-8 text file, or - for standard input")
        parser.add_argument("--format", choices=["json", "text"], default="json")
        parser.add_argument(
            "--published",
            help="publication date, YYYY-MM-DD: relative dates count from it (without it, from "
            "a dateline or the text's own dates, else they are marked anchored: false)",
        )

    def handle(self, *args, **options):
        argv = ["--format", options["format"]]
        if options["published"]:
            argv += ["--published", options["published"]]
        argv.append(options["path"])
        # The extraction package owns the contract and its error messages; this command is
        # its Django entry point, so the two never drift apart.
        code = run_cli(argv, stdin=sys.stdin, stdout=self.stdout, stderr=self.stderr)
        if code:
            sys.exit(code)
