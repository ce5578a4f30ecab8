import sys

from .cli import run_cli

sys.exit(run_cli(sys.argv[1:], sys.stdin, sys.stdout, sys.stderr))
