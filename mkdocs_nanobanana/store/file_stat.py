"""What a stat says of a file that tells whether it changed: its size, mtime and ctime.

A user's file (an own picture, a card's picture) is hashed once; its digest is kept with
this Stat, and a build trusts the digest while the file's Stat is the same (ctime too:
a copy that keeps mtime, ``cp -p``, still changes ctime). Shared by the own-picture index
(own_index.py) and the card pictures' digests (picture_digests.py).
"""

from __future__ import annotations

import os

from ..core.frozen import frozen

__all__: list[str] = []


@frozen
class Stat:
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, path: str) -> Stat | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns)

