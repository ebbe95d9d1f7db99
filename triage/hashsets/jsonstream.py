"""Stream the records of a large JSON envelope ``{..., "key": [record, record, ...], ...}``.

``json.load`` on a 1 GB Project VIC export would hold the whole document (several times its size
as Python objects) at once. This walks the top-level object with ``JSONDecoder.raw_decode``,
decoding one record of the array at a time from a buffer that holds about one chunk of text, and
counts line ends on the way so every record knows the line it starts on. Other top-level members
(metadata) are decoded whole; they are small.

An element of the array that is itself a *container* (a VICS ``$metadata#Cases`` export holds
cases, each with its media in a ``Media`` array) is walked member by member too, when the caller
names the nested array: its media are streamed one at a time like top-level records, so a single
case holding a million media needs no more memory than a flat export.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from triage.hashsets.base import fail, shorten
from triage.hashsets.source import Source

_WHITESPACE = " \t\r\n"
_KEEP = 1 << 20  # drop consumed text once this much has piled up
_LONGEST = 64 << 20  # a single value longer than this is taken as malformed, not read on


class _Text:
    def __init__(self, source: Source) -> None:
        self.source = source
        self._pieces = source.text()
        self.buffer = ""
        self.pos = 0
        self.line = 1
        self.done = False

    def fill(self) -> bool:
        """Append the next piece of text; False at the end of the file."""
        if self.done:
            return False
        piece = next(self._pieces, None)
        if piece is None:
            self.done = True
            return False
        if self.pos > _KEEP:
            self.buffer, self.pos = self.buffer[self.pos :], 0
        self.buffer += piece
        return True

    def advance(self, to: int) -> None:
        self.line += self.buffer.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end), without taking it."""
        while True:
            end = len(self.buffer)
            at = self.pos
            while at < end and self.buffer[at] in _WHITESPACE:
                at += 1
            self.advance(at)
            if at < end or not self.fill():
                return self.buffer[at] if at < end else ""

    def expect(self, chars: str, what: str) -> str:
        found = self.peek()
        if not found or found not in chars:
            raise self.error(f"expected {what}")
        self.advance(self.pos + 1)
        return found

    def value(self, what: str) -> Any:
        """Decode one JSON value; a value that reaches the end of the buffer is decoded again
        with more text (a number or a record may continue in the next piece)."""
        self.peek()
        decoder = json.JSONDecoder()
        while True:
            try:
                value, end = decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as e:
                if len(self.buffer) - self.pos < _LONGEST and self.fill():
                    continue
                raise self.error(f"expected {what} ({e.msg})") from e
            if end < len(self.buffer) or not self.fill():
                self.advance(end)
                return value

    def error(self, message: str) -> Exception:
        found = self.buffer[self.pos : self.pos + 60].split("\n", 1)[0]
        return fail(
            self.source, self.line, f"{message}, found {shorten(found) if found else 'the end of the file'}"
        )


def records(
    source: Source,
    key: str,
    meta: dict[str, Any],
    nested: str | None = None,
    outer: dict[str, Any] | None = None,
) -> Iterator[tuple[int, Any]]:
    """``(line, record)`` for each element of the top-level array ``key``; the other top-level
    members are stored in ``meta``. Errors name the file and line.

    With ``nested``, an object element that has a ``nested`` array member is a container: its
    elements are yielded instead of it (the container itself is not), each on its own line; an
    object element without that member is yielded whole, so both shapes may be read alike.
    While a container's elements are yielded, ``outer`` (if given) holds the container's members
    that came before its ``nested`` array."""
    text = _Text(source)
    if not text.peek():
        return  # an empty file: the loader reports the empty set
    text.expect("{", "a JSON object '{'")
    found = False
    for name in _members(text):
        if name == key:
            found = True
            yield from _array(text, key, nested, {} if outer is None else outer)
        else:
            meta[name] = text.value(f"the value of {name!r}")
    if text.peek():
        raise text.error("expected the end of the JSON document")
    if not found:
        raise fail(source, None, f"expected a {key!r} array of records in the JSON object, found none")


def _array(
    text: _Text, key: str, nested: str | None = None, outer: dict[str, Any] | None = None
) -> Iterator[tuple[int, Any]]:
    text.expect("[", f"the {key!r} array '['")
    if text.peek() == "]":
        text.advance(text.pos + 1)
        return
    while True:
        if nested is not None and text.peek() == "{":
            yield from _container(text, nested, {} if outer is None else outer)
        else:
            text.peek()
            line = text.line
            yield line, text.value("a record")
        if text.expect(",]", f"',' or ']' in the {key!r} array") == "]":
            return


def _container(text: _Text, nested: str, outer: dict[str, Any]) -> Iterator[tuple[int, Any]]:
    """One object element, member by member: its ``nested`` array's elements when it has one,
    else the object itself (decoded member by member, so it is the same dict)."""
    line = text.line
    text.expect("{", "a JSON object '{'")
    members: dict[str, Any] = {}
    found = False
    for name in _members(text):
        if name == nested and text.peek() == "[":
            found = True
            outer.clear()
            outer.update(members)
            yield from _array(text, nested)
            outer.clear()
        else:
            members[name] = text.value(f"the value of {name!r}")
    if not found:
        yield line, members


def _members(text: _Text) -> Iterator[str]:
    """The member names of the object whose ``{`` was just read, each followed by its ``:``;
    the caller reads (or streams) each value before asking for the next name."""
    if text.peek() == "}":
        text.advance(text.pos + 1)
        return
    while True:
        if text.peek() != '"':
            raise text.error("expected a member name in double quotes")
        name = text.value("a member name")
        text.expect(":", "':' after a member name")
        yield name
        if text.expect(",}", "',' or '}'") == "}":
            return
