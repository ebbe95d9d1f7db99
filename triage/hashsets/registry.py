"""The one table of hash-set readers, tried in order; the plain-list fallback goes last.

Adding a format means one reader module, one line in :data:`READERS`, one sample file and the
contract tests in ``tests/hashsets/test_hashset_contract.py``. Specific formats come before
general ones: binary signatures first, then headers that name one format (hashdeep, NSRL,
HashKeeper), then line shapes (vPDQ, PDQ), then any CSV header naming a hash column;
``md5deep -z`` lines start with a size, ``md5sum`` lines have a name after the hash, and a bare
hash per line is what is left.
"""

from __future__ import annotations

import logging

from triage.errors import HashSetError
from triage.hashsets import (
    csvset,
    encase,
    hashdeep,
    hashkeeper,
    md5deep_size,
    nsrl,
    pdqlist,
    plain,
    rdsv3,
    sumfile,
    vics,
    vpdq,
    zipped,
)
from triage.hashsets.base import HashSetReader, Sniff, shorten
from triage.hashsets.source import Source

log = logging.getLogger(__name__)

READERS: tuple[HashSetReader, ...] = (
    encase.READER,  # binary, by signature
    rdsv3.READER,  # SQLite signature + RDSv3 names in the schema page
    zipped.ZipReader(lambda source, sniff: detect_reader(source, sniff)),  # its member: this table
    vics.CAID,  # JSON OData envelope with a UK/CAID data model
    vics.VICS,  # JSON OData envelope
    hashdeep.READER,  # '%%%% HASHDEEP-1.0'
    nsrl.READER,  # the exact NSRLFile.txt header (before csv, which would also take it)
    hashkeeper.READER,  # the HashKeeper .hsh/.hke header (before csv)
    vpdq.READER,  # 'frame,quality,pdq,seconds'
    pdqlist.READER,  # 'pdq,quality[,id]', or declared/.pdq
    csvset.READER,
    md5deep_size.READER,
    sumfile.READER,
    plain.READER,  # fallback: last
)


def reader_named(name: str) -> HashSetReader:
    """The reader whose ``name`` is given (to force a format)."""
    for reader in READERS:
        if reader.name == name:
            return reader
    known = ", ".join(r.name for r in READERS)
    raise HashSetError(f"unknown hash-set format {name!r} (known formats: {known})")


def detect_reader(source: Source, sniff: Sniff) -> HashSetReader:
    """The first reader that recognises the file. A detector that fails is logged and skipped:
    one buggy detector must not make every set unreadable."""
    for reader in READERS:
        try:
            if reader.detect(sniff):
                return reader
        except Exception:
            log.warning("hash-set detector %s failed on %s", reader.name, source.display, exc_info=True)
    if sniff.binary:
        raise HashSetError(f"{source.display}: a binary file, not a known-hash set")
    known = "; ".join(f"{r.name}: {r.description}" for r in READERS)
    number, text = sniff.lines[0] if sniff.lines else (0, "")
    raise HashSetError(
        f"{source.display} line {number}: not a recognised hash-set format, found {shorten(text)} "
        f"(formats read: {known})"
    )
