"""``python -m triage`` is the same as the ``triage`` command."""

from triage.cli.entry import main

main()
