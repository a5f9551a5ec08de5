"""A small `VersionOrder`: enough for conda-index to pick the newest version of a package.

Orders like conda for plain versions: an optional `N!` epoch, then dot/underscore/dash separated
parts, each split into numbers and letters; numbers compare numerically, a letter run sorts
before any number (so `1.0a` < `1.0`), missing parts count as 0. Not conda's full grammar
(`dev`/`post` specials, local versions): the test channels do not use those.
"""

from __future__ import annotations

import functools
import re

_PIECE = re.compile(r"\d+|[A-Za-z]+")


def _key(version: str) -> tuple:
    text = version.strip().lower()
    epoch = 0
    if "!" in text:
        head, text = text.split("!", 1)
        epoch = int(head) if head.isdigit() else 0
    parts = []
    for part in re.split(r"[._-]", text):
        pieces = _PIECE.findall(part) or ["0"]
        # (0, str) sorts before (1, int): letters before numbers.
        parts.append(tuple((1, int(p)) if p.isdigit() else (0, p) for p in pieces))
    return (epoch, parts)


def _padded(a: list, b: list) -> tuple[list, list]:
    width = max(len(a), len(b))
    zero = ((1, 0),)
    return a + [zero] * (width - len(a)), b + [zero] * (width - len(b))


@functools.total_ordering
class VersionOrder:
    def __init__(self, version: str):
        self.version = str(version)
        self._epoch, self._parts = _key(self.version)

    def _cmp_key(self, other: "VersionOrder") -> tuple[tuple, tuple]:
        mine, theirs = _padded(self._parts, other._parts)
        return (self._epoch, mine), (other._epoch, theirs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionOrder):
            return NotImplemented
        a, b = self._cmp_key(other)
        return a == b

    def __lt__(self, other: "VersionOrder") -> bool:
        a, b = self._cmp_key(other)
        return a < b

    def __hash__(self) -> int:
        return hash(self.version)

    def __repr__(self) -> str:
        return f"VersionOrder({self.version!r})"
