"""HashKeeper sets (the US NDIC's tool): a ``.hsh`` CSV of files and a ``.hke`` set description.

The ``.hsh`` header is ``"file_id","hashset_id","file_name","directory","hash","file_size",...``;
``hash`` is an MD5. ``file_id`` becomes the entry id, ``file_name`` (prefixed by ``directory``
when there is one) the name, and every other non-empty column a label. A ``.hke`` file only
describes a set (its name, vendor, whether it is "notable") and lists no hash, so loading it is
an error that points at the ``.hsh``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from triage.hashsets.base import Sniff, csv_cells, csv_row, fail, hex_value, normalise, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

HSH_START = ("fileid", "hashsetid", "filename", "directory", "hash")
HKE_START = ("hashsetid", "name", "vendor", "package")


def _header(text: str) -> tuple[str, ...]:
    try:
        return tuple(normalise(c) for c in csv_cells(text))
    except csv.Error:
        return ()


class HashKeeperReader:
    name = "hashkeeper"
    description = "HashKeeper .hsh set (quoted CSV: file_id, hashset_id, file_name, directory, hash, ...)"

    def detect(self, sniff: Sniff) -> bool:
        if not sniff.lines:
            return False
        header = _header(sniff.lines[0][1])
        return header[: len(HSH_START)] == HSH_START or header[: len(HKE_START)] == HKE_START

    def read(self, source: Source) -> Iterator[KnownHash]:
        lines = source.data_lines()
        for number, text in lines:
            header = _header(text)
            if header[: len(HKE_START)] == HKE_START:
                raise fail(
                    source,
                    number,
                    "a HashKeeper set description (.hke) lists no hashes: load the set's .hsh file",
                )
            if header[: len(HSH_START)] != HSH_START:
                raise fail(source, number, f"expected the HashKeeper .hsh header, found {shorten(text)}")
            names = tuple(c.strip() for c in csv_cells(text))
            break
        else:
            return
        category = source.directives.category
        others = [i for i, n in enumerate(header) if n not in ("fileid", "filename", "directory", "hash")]
        for number, text in lines:
            cells = csv_row(source, number, text, len(names))
            _, value = hex_value(source, number, cells[4].strip(), "md5", names[4])
            directory, file_name = cells[3].strip(), cells[2].strip()
            name = f"{directory.rstrip(chr(92))}\\{file_name}" if directory else file_name
            labels = tuple((names[i], cells[i].strip()) for i in others if cells[i].strip())
            yield KnownHash("md5", value, cells[0].strip() or None, category, name or None, labels, number)


READER = HashKeeperReader()
