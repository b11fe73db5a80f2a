"""Seeds for requests sent without one, picked as the real service picks them.

Why: the real service gives every unseeded image a fresh random seed, so running the same
prompt twice gives two different pictures. A simulator that answered the same request with the
same seeds taught users (and tests) a determinism the service does not have. Reproducibility
stays available two ways: send a seed (same request, same bytes), or make the simulator with
`seed=N`, which replays: the k-th time a request is seen it gets the same seeds on every run,
whatever order threads send it in.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import weakref

from ideogram_nb import _api

from ._job import Job

#: One picker per simulated service (kept here so the service needs no extra state).
_PICKERS: weakref.WeakKeyDictionary[object, SeedPicker] = weakref.WeakKeyDictionary()
_PICKERS_LOCK = threading.Lock()


class SeedPicker:
    """Seeds for one service: fresh random ones, or (with `seed`) a replayable sequence."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}  # request fingerprint → times sent
        self._occurrence: weakref.WeakKeyDictionary[Job, int] = weakref.WeakKeyDictionary()

    def pick(self, job: Job, index: int) -> int:
        """The seed of image `index` of `job`."""
        if self.seed is None:
            return secrets.randbelow(_api.SEED_MAX + 1)
        with self._lock:
            occurrence = self._occurrence.get(job)
            if occurrence is None:
                occurrence = self._seen.get(job.fingerprint, 0)
                self._seen[job.fingerprint] = occurrence + 1
                self._occurrence[job] = occurrence
        digest = hashlib.sha256(f"{job.fingerprint}:{self.seed}:{occurrence}:{index}".encode()).digest()
        return int.from_bytes(digest[:8], "big") % (_api.SEED_MAX + 1)


def picker_for(owner: object, seed: int | None) -> SeedPicker:
    """The picker of `owner` (a `Service`), made on first use with its `seed`."""
    with _PICKERS_LOCK:
        picker = _PICKERS.get(owner)
        if picker is None or picker.seed != seed:
            picker = _PICKERS[owner] = SeedPicker(seed)
        return picker
