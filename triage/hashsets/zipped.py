"""A hash set inside a zip archive, read in place: NIST's legacy RDS zips (``NSRLFile.txt``)
and zipped HashKeeper sets (``*.hsh``).

The one member that is a hash set is found by name (``NSRLFile.txt`` first, else a single
``.hsh``), then read by whichever reader recognises it, exactly as if it were a file of its own.
Lines of its entries count within that member; error messages name the archive and the member.
The recorded SHA-256 is the archive's; the archive is opened a second time (by path) to read the
member, and a change of its size or time stamp meanwhile is an error.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from triage.errors import HashSetError
from triage.hashsets.base import HashSetReader, Sniff
from triage.hashsets.source import Source
from triage.records import KnownHash

SIGNATURE = b"PK\x03\x04"
#: Old PKZIP wrote a "PK00" spanning marker before the first member (the zipped HashKeeper set).
SPANNED = b"PK00" + SIGNATURE
NSRL_MEMBER = "nsrlfile.txt"


def pick_member(names: list[str]) -> str | None:
    """The member holding the hash set, or None when there is no single obvious one."""
    files = [n for n in names if not n.endswith("/")]
    nsrl = [n for n in files if PurePosixPath(n).name.lower() == NSRL_MEMBER]
    hsh = [n for n in files if n.lower().endswith(".hsh")]
    for found in (nsrl, hsh):
        if len(found) == 1:
            return found[0]
    return None


#: Finds the reader of the member (the registry's own detection, passed in by the registry).
Detector = Callable[[Source, Sniff], HashSetReader]


class ZipReader:
    name = "zip"
    description = "a zip archive holding one hash set (NSRL RDS NSRLFile.txt or a HashKeeper .hsh)"

    def __init__(self, detect_member: Detector) -> None:
        self._detect_member = detect_member

    def detect(self, sniff: Sniff) -> bool:
        return sniff.head.startswith((SIGNATURE, SPANNED))

    def read(self, source: Source) -> Iterator[KnownHash]:
        before = source.stat_key()
        try:
            with zipfile.ZipFile(source.path) as archive:
                names = archive.namelist()
                member = pick_member(names)
                if member is None:
                    listed = ", ".join(names[:10]) or "none"
                    raise HashSetError(
                        f"{source.display}: expected a zip holding one NSRLFile.txt or one HashKeeper "
                        f".hsh, found members: {listed}"
                    )
                display = f"{source.display} (member {member})"
                with archive.open(member) as stream, Source(source.path, display, stream) as inner:
                    reader = self._detect_member(inner, inner.sniff())
                    if reader.name == self.name:
                        raise HashSetError(f"{display}: a zip inside a zip is not read")
                    yield from reader.read(inner)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as e:
            raise HashSetError(f"{source.display}: not a readable zip archive: {e}") from e
        if source.stat_key() != before:
            raise HashSetError(f"{source.display}: the file changed while it was being read")
