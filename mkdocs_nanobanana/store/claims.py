"""Claims: which runner of a fleet buys a key that neither cache holds.

Runners that start together on one remote cache (a pull request's preview and main's
deploy, a matrix, a monorepo's sites) would each pay for every missing image. Before
buying, a runner creates a claim for the key, with the store's own atomic
create-if-absent (``RemoteCache.create_object``): of all the runners that try, exactly
one creates it and buys; the others fetch the image once its sidecar is there.

    claims/<k2>/<key>.<n>.json   {"version": 1, "holder": <random id>, "deadline": <epoch s>,
                                  "ttl": <s>}

A claim carries no secret and no host name: a random id of the build that made it, and
its deadline, after which it counts as abandoned (a killed runner never blocks the
fleet). ``n`` counts takeovers: an abandoned claim ``n`` is taken over by creating
``n + 1``, create-if-absent again, so of two runners that both found ``n`` abandoned,
one wins. Never delete-then-create, which both could pass. The holder removes its own
claim once the image is uploaded (or could not be had); an abandoned one stays until
``nanobanana prune --remote`` removes it.

Deadlines are read on the reader's clock, and a reader never waits longer than the
claim's own ttl from when it first saw the claim: a holder whose clock runs ahead cannot
make others wait for ever. CI runners keep their clocks within a second of each other
(NTP), against ttls of minutes.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time

from ..core.frozen import frozen
from .remote import RemoteCache, RemoteError

__all__: list[str] = []

CLAIM_VERSION = 1
CLAIM_NAME_RE = re.compile(r"(?P<key>[0-9a-f]{64})\.(?P<n>[0-9]{1,3})\.json\Z")
PROBE_NAME_RE = re.compile(r"probe-[0-9a-f]{16}\.json\Z")
#: Takeovers of one key before a runner stops trying and buys as if alone.
MAX_TAKEOVERS = 100
#: The longest a reader honours a claim, whatever its ttl says.
MAX_TTL = 6 * 3600.0


def claim_path(key: str, n: int) -> str:
    """The claim's path, relative to the remote root."""
    return f"claims/{key[:2]}/{key}.{n}.json"


@frozen
class Claim:
    key: str
    n: int
    holder: str  # a random id of the build that made it; "" if the claim could not be read
    deadline: float  # time.time() after which it counts as abandoned
    ttl: float

    @property
    def path(self) -> str:
        return claim_path(self.key, self.n)

    def live(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) < self.deadline

    def encode(self) -> bytes:
        return json.dumps({"version": CLAIM_VERSION, "holder": self.holder, "deadline": round(self.deadline, 3),
                           "ttl": round(self.ttl, 3)}, sort_keys=True).encode("ascii")


def _number(data: object, name: str) -> float | None:
    value = data.get(name) if isinstance(data, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def decode(key: str, n: int, data: bytes) -> tuple[str, float, float] | None:
    """(holder, deadline, ttl) of a claim's bytes; None if they are not a claim (a
    folder's claim read between its create and its write, or damage)."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    holder = parsed.get("holder") if isinstance(parsed, dict) else None
    deadline, ttl = _number(parsed, "deadline"), _number(parsed, "ttl")
    if not isinstance(holder, str) or deadline is None or ttl is None or parsed.get("version") != CLAIM_VERSION:
        return None
    return holder[:64], deadline, ttl


class Claims:
    """This build's claims in one remote store (``holder`` is its random id)."""

    def __init__(self, remote: RemoteCache, holder: str | None = None) -> None:
        self.remote = remote
        self.holder = holder or secrets.token_hex(8)
        self._lock = threading.Lock()
        self._usable: str | None | bool = False  # False: not probed yet; None: usable; str: why not
        self._seen: dict[tuple[str, str], float] = {}  # (path, holder) -> when this build first read it

    def unusable(self) -> str | None:
        """Why this store cannot hold claims, or None if it can: asked of the store
        once, by creating one probe object twice (the second create must be refused).
        An S3-compatible server that ignores If-None-Match takes both, and is found
        here rather than by a fleet that pays for every image K times."""
        with self._lock:
            if self._usable is False:
                self._usable = self._probe()
            return self._usable if isinstance(self._usable, str) else None

    def _probe(self) -> str | None:
        if self.remote.exclusive_kind is None:
            return f"its store ({type(self.remote.fs).__name__}) has no atomic create-if-absent this plugin knows"
        probe = f"claims/probe-{secrets.token_hex(8)}.json"
        try:
            first = self.remote.create_object(probe, b"{}")
            second = self.remote.create_object(probe, b"{}")
        except RemoteError as exc:
            return f"its atomic create-if-absent failed ({exc})"
        finally:
            try:
                self.remote.remove_object(probe)
            except RemoteError:
                pass  # prune --remote removes an old probe
        if not first or second:
            return "it took a second create of one object (a server that ignores If-None-Match?)"
        return None

    def acquire(self, key: str, ttl: float) -> tuple[bool, Claim]:
        """(True, our new claim) if this build is to buy ``key``; (False, the live claim
        of another) if someone else is buying it. RemoteError if the store fails."""
        n = 0
        for _ in range(3 * MAX_TAKEOVERS):  # a claim released between our create and our read: try n again
            ours = Claim(key, n, self.holder, time.time() + ttl, ttl)
            if self.remote.create_object(ours.path, ours.encode()):
                return True, ours
            theirs = self.look(key, n, ttl)
            if theirs is None:
                continue
            if theirs.live():
                return False, theirs
            n += 1
            if n >= MAX_TAKEOVERS:
                break
        raise RemoteError(f"{MAX_TAKEOVERS} abandoned claims of {key[:12]}: run `nanobanana prune --remote`")

    def look(self, key: str, n: int, ttl: float) -> Claim | None:
        """Claim ``n`` of ``key`` as it is now; None if there is none. One that cannot be
        read is live for ``ttl`` from when this build first saw it."""
        data = self.remote.read_object(claim_path(key, n))
        if data is None:
            return None
        fields = decode(key, n, data)
        holder, deadline, ttl = fields if fields is not None else ("", float("inf"), ttl)
        with self._lock:
            first_seen = self._seen.setdefault((claim_path(key, n), holder), time.time())
        return Claim(key, n, holder, min(deadline, first_seen + min(ttl, MAX_TTL)), ttl)

    def release(self, claim: Claim) -> None:
        """Remove our claim: the image is in the store (or could not be had)."""
        if claim.holder == self.holder:
            self.remote.remove_object(claim.path)

    def survey(self) -> tuple[dict[str, Claim], list[str]]:
        """Every claim in the store: the live ones by key, and the paths of those
        abandoned (and of probes older than any build), which prune removes."""
        live: dict[str, Claim] = {}
        abandoned: list[str] = []
        now = time.time()
        for path in self.remote.list_objects("claims/*/*.json"):
            m = CLAIM_NAME_RE.match(path.rsplit("/", 1)[1])
            if m is None or path.split("/")[1] != m["key"][:2]:
                continue  # not a name we write: left alone
            claim = self._surveyed(m["key"], int(m["n"]), now)
            if claim is None:
                continue
            if claim.live(now):
                live[claim.key] = claim
            else:
                abandoned.append(path)
        for path in self.remote.list_objects("claims/probe-*.json"):
            written = self.remote.modified(self.remote.object_path(path))
            if PROBE_NAME_RE.match(path.rsplit("/", 1)[1]) and written is not None and written < now - MAX_TTL:
                abandoned.append(path)
        return live, abandoned

    def _surveyed(self, key: str, n: int, now: float) -> Claim | None:
        """A claim as prune sees it: one that cannot be read is live until MAX_TTL after
        it was written, if the store says when (else live)."""
        data = self.remote.read_object(claim_path(key, n))
        if data is None:
            return None
        fields = decode(key, n, data)
        if fields is not None:
            holder, deadline, ttl = fields
            return Claim(key, n, holder, min(deadline, now + MAX_TTL), ttl)
        written = self.remote.modified(self.remote.object_path(claim_path(key, n)))
        return Claim(key, n, "", (written + MAX_TTL) if written is not None else float("inf"), MAX_TTL)
