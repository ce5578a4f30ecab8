"""Text in, withdrawal facts out: who withdraws from where, how many, and by when.

Pure Python (no Django) so it can be tested, benchmarked and run from the command line:
`python -m tracker.extraction --format json [--published YYYY-MM-DD] PATH`.
"""

from .cli import run_cli
from .extractor import ExtractionError, extract
from .model import (
    DateFact,
    DeploymentFact,
    Evidence,
    ExtractionResult,
    MilestoneFact,
    PartyRef,
    PersonnelFact,
    WithdrawalFact,
)

__all__ = [
    "DateFact",
    "DeploymentFact",
    "Evidence",
    "ExtractionError",
    "ExtractionResult",
    "MilestoneFact",
    "PartyRef",
    "PersonnelFact",
    "WithdrawalFact",
    "extract",
    "run_cli",
]
