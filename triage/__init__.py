"""triage: forensic triage of seized media for known pictures and videos.

The public API is small: :func:`triage.scan.pipeline.scan` runs a whole scan into a case folder;
:func:`triage.evidence.open_evidence` opens one evidence item. Everything else is internal.
"""

__version__ = "0.1.0"
