"""The console entry point, kept free of heavy imports.

For ``triage scan`` the workers' fork server is started first, so it imports the worker modules
(Pillow, numpy, The Sleuth Kit, ...) on the second core while this process imports the rest of
triage: a scan's start-up costs one import time, not two in a row.
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "scan":
        from triage.scan.pool import warm_up

        warm_up()
    from triage.cli.main import main as run

    run()
