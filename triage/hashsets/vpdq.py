"""vPDQ frame lists of a video (ThreatExchange ``vpdq``): ``frame,quality,pdq hex,seconds`` per line.

Each frame becomes a PDQ KnownHash whose entry id is the file's stem (the video it describes)
and whose labels are ``("video", stem)``, ``("frame", n)``, ``("timestamp", seconds)`` and
``("quality", q)``. A picture matches single frames like any PDQ; a scanned *video* is
compared with each listed video as a whole (shares of matching frames, vpdq-README.md) by
:mod:`triage.hashsets.edits`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath

from triage.hashsets.base import Sniff, fail, hex_value, shorten
from triage.hashsets.source import Source
from triage.records import KnownHash

_LINE = re.compile(r"\s*([0-9]+),([0-9]{1,3}),([0-9A-Fa-f]{64}),([0-9]+(?:\.[0-9]*)?)\s*")


class VpdqReader:
    name = "vpdq"
    description = "vPDQ frame list of a video: 'frame,quality,pdq hex,timestamp seconds' per line"

    def detect(self, sniff: Sniff) -> bool:
        return not sniff.binary and bool(sniff.lines) and _LINE.fullmatch(sniff.lines[0][1]) is not None

    def read(self, source: Source) -> Iterator[KnownHash]:
        video = PurePath(source.path.name).stem
        for number, text in source.data_lines():
            m = _LINE.fullmatch(text)
            if m is None:
                expected = "'frame number,quality,pdq hex,timestamp seconds'"
                raise fail(source, number, f"expected {expected}, found {shorten(text)}")
            frame, quality, digest, seconds = m.groups()
            if int(quality) > 100:
                raise fail(source, number, f"expected a PDQ quality from 0 to 100, found {quality}")
            _, value = hex_value(source, number, digest, "pdq")
            labels = (("video", video), ("frame", frame), ("timestamp", seconds), ("quality", quality))
            yield KnownHash("pdq", value, video, source.directives.category, None, labels, number)


READER = VpdqReader()
