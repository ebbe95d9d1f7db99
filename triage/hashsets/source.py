"""One pass over a hash-set file: its bytes feed the SHA-256 the case records *and* the reader.

Hashing the very bytes that are parsed (instead of reading the file twice) means the recorded
digest always describes the content that was loaded, even if the file changes meanwhile, and a
multi-gigabyte set is read from disk only once. Text handling every text format shares lives
here too: UTF-8 with or without BOM (a line that is not UTF-8 is read as Windows-1252 so an old
tool's file names do not stop a load), UTF-16 with BOM (PowerShell's ``Out-File``), CRLF or LF,
blank lines, ``#`` comments and ``# triage-hashset: key=value`` directives.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from triage.errors import HashSetError
from triage.hashsets.base import Directives, Sniff, algorithm_named, fail, normalise, shorten
from triage.hashsets.categories import scheme_name

HEAD_BYTES = 64 * 1024
CHUNK_BYTES = 1 << 20
SNIFF_LINES = 8
DIRECTIVE = "triage-hashset"
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class Source:
    """An open hash-set file. Use as a context manager; read lines at most once."""

    def __init__(self, path: Path, display: str, stream: BinaryIO | None = None) -> None:
        """``stream`` (optional) reads an already open binary stream instead of ``path``: a
        member of a zip archive, whose ``path`` is then the archive's."""
        self.path = path
        self.display = display
        self.directives = Directives()
        self._sha = hashlib.sha256()
        self._started = False
        if stream is not None:
            self._fh = stream
        else:
            try:
                self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()/__exit__
            except OSError as e:
                raise HashSetError(f"{display}: cannot open: {e.strerror or e}") from e
        self.head = self._read(HEAD_BYTES)
        self.utf16 = self.head.startswith(_UTF16_BOMS)

    # ------------------------------------------------------------------ bytes and digest
    def _read(self, size: int) -> bytes:
        try:
            data = self._fh.read(size)
        except OSError as e:
            raise HashSetError(f"{self.display}: cannot read: {e.strerror or e}") from e
        self._sha.update(data)
        return data

    def _chunks(self) -> Iterator[bytes]:
        if self._started:
            raise RuntimeError("a hash-set Source can be read only once")
        self._started = True
        yield self.head
        while chunk := self._read(CHUNK_BYTES):
            yield chunk

    def sha256(self) -> str:
        """SHA-256 of the whole file: whatever the reader did not read is hashed now."""
        self._started = True  # no line reading after this
        while self._read(CHUNK_BYTES):
            pass
        return self._sha.hexdigest()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes in order, the head first, for binary formats. Once only; every
        byte passes through the digest."""
        return self._chunks()

    def stat_key(self) -> tuple[int, int]:
        """``(size, mtime_ns)`` of the file now: readers that open the file a second time (zip,
        SQLite) compare it before and after, so a set that changed while being read is an error
        rather than a digest that describes other bytes than the hashes loaded."""
        st = os.fstat(self._fh.fileno())
        return st.st_size, st.st_mtime_ns

    # ------------------------------------------------------------------ text
    def text(self) -> Iterator[str]:
        """The whole text in decoded pieces of any length (no line splitting), BOM removed: for
        formats such as JSON whose records need not sit on lines of their own."""
        codec = "utf-16" if self.utf16 else "utf-8-sig"
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        for chunk in self._chunks():
            if piece := decoder.decode(chunk):
                yield piece
        if piece := decoder.decode(b"", final=True):
            yield piece

    def lines(self) -> Iterator[tuple[int, str]]:
        """Every physical line as ``(number, text)``, 1-based, without BOM or line end."""
        return _numbered(_decode(self._chunks(), self.utf16, final=True))

    def data_lines(self) -> Iterator[tuple[int, str]]:
        """Lines that carry data: blank lines and comments skipped, directives applied to
        :attr:`directives` (only allowed before the first data line)."""
        return self._filter(self.lines())

    def _filter(self, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        seen_data = False
        for number, text in lines:
            body = text.lstrip()
            if not body:
                continue
            if body[0] == "#":
                comment = body.lstrip("#").strip()
                if comment[: len(DIRECTIVE)].lower() == DIRECTIVE:
                    if seen_data:
                        raise fail(self, number, "a triage-hashset directive must come before the first hash")
                    self.directives = _directive(self, self.directives, number, comment)
                continue
            seen_data = True
            yield number, text

    def sniff(self) -> Sniff:
        """Detection input from the head only; directives found there are checked already."""
        complete = len(self.head) < HEAD_BYTES
        binary = not self.utf16 and b"\x00" in self.head
        lines: list[tuple[int, str]] = []
        saved = self.directives
        if not binary:
            numbered = _numbered(_decode([self.head], self.utf16, final=complete))
            for item in self._filter(numbered):
                lines.append(item)
                if len(lines) >= SNIFF_LINES:
                    break
        sniff = Sniff(self.path.name, self.head, tuple(lines), self.directives, binary)
        self.directives = saved  # data_lines() applies them again, in order
        return sniff


def _decode(chunks: Iterable[bytes], utf16: bool, final: bool) -> Iterator[str]:
    """Split chunks into lines of text. With ``final`` False an unterminated last line is
    dropped (the head may end mid-line)."""
    if utf16:
        decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
        pending = ""
        for chunk in chunks:
            parts = (pending + decoder.decode(chunk)).split("\n")
            pending = parts.pop()
            yield from (p[:-1] if p.endswith("\r") else p for p in parts)
        pending += decoder.decode(b"", final=True) if final else ""
        if final and pending:
            yield pending.rstrip("\r")
        return
    rest = b""
    first = True
    for chunk in chunks:
        if first:
            chunk = chunk.removeprefix(_UTF8_BOM)
            first = False
        if rest:
            chunk = rest + chunk
        cut = chunk.rfind(b"\n") + 1
        block, rest = chunk[:cut], chunk[cut:]
        if block:
            yield from _split_block(block[:-1])
    if final and rest:
        yield from _split_block(rest)


def _split_block(block: bytes) -> Iterator[str]:
    """Lines of a block of complete lines: one UTF-8 decode for the block when it is valid."""
    try:
        lines = block.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        lines = [_decode_line(raw) for raw in block.split(b"\n")]
    for line in lines:
        yield line[:-1] if line.endswith("\r") else line


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    return enumerate(lines, start=1)


def _directive(source: Source, current: Directives, number: int, comment: str) -> Directives:
    """Apply one ``triage-hashset: key=value`` line."""
    rest = comment[len(DIRECTIVE) :].lstrip()
    key, sep, value = rest[1:].partition("=") if rest.startswith(":") else ("", "", "")
    key, value = normalise(key), value.strip()
    if not sep or not key or not value:
        raise fail(source, number, f"expected '# triage-hashset: key=value', found {shorten(comment)}")
    if key == "algorithm":
        algorithm = algorithm_named(value)
        if algorithm is None:
            expected = "md5, sha1, sha256, pdq or phash"
            raise fail(source, number, f"unknown algorithm {shorten(value)} (expected {expected})")
        if current.algorithm is not None:
            raise fail(source, number, "the algorithm is declared twice")
        return replace(current, algorithm=algorithm, lines=(*current.lines, number))
    if key == "category":
        if current.category is not None:
            raise fail(source, number, "the category is declared twice")
        return replace(current, category=value, lines=(*current.lines, number))
    if key in ("scheme", "category_scheme"):
        if current.scheme is not None:
            raise fail(source, number, "the category scheme is declared twice")
        scheme = scheme_name(value)
        if scheme is None:
            raise fail(
                source,
                number,
                f"a category scheme is one word (vics, caid or the lab's own), not {shorten(value)}",
            )
        return replace(current, scheme=scheme, lines=(*current.lines, number))
    expected = "algorithm, category or scheme"
    raise fail(source, number, f"unknown triage-hashset setting {shorten(key)} (expected {expected})")
