"""The offline Ideogram API: the same routes, bodies, answers and errors, with no network.

`SimulatorTransport` plugs into `httpx.Client(transport=...)` (in-process, the test seam);
`SimulatorServer` serves it on a loopback port for notebooks, curl and other processes;
`python -m ideogram_nb.simulator --port 8765` runs that server from a shell. Images are
synthetic but deterministic (same request and seed, same bytes) and behave like the real
operations (an edit touches only the masked region, upscale doubles the size, ...).

This package reads only the wire format and `ideogram_nb._api`/`_config` tables: it is the
stand-in for the service, not a mirror of the client's objects.
"""

from __future__ import annotations

from ._faults import Faults
from ._ledger import BilledCall
from ._server import SimulatorServer, serve
from ._service import SimulatorStats
from ._transport import SimulatorTransport

__all__ = ["BilledCall", "Faults", "SimulatorServer", "SimulatorStats", "SimulatorTransport", "serve"]
