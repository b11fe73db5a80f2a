"""`python -m ideogram_nb.simulator --port 8765`: the offline Ideogram API on loopback."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ideogram_nb import _config

from ._server import serve


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ideogram_nb.simulator",
        description="Serve the offline Ideogram API on a loopback port (any Api-Key is accepted).",
    )
    parser.add_argument("--host", default=_config.SIMULATOR_HOST, help="loopback address (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=_config.SIMULATOR_DEFAULT_PORT, help="port (default %(default)s; 0 = any)"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each generation takes (default 0)")
    parser.add_argument("--seed", type=int, default=None, help="varies the images of requests sent without a seed")
    parser.add_argument("--inflight-limit", type=int, default=None, help="answer 429 past this many images in flight")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port, log=not args.quiet, latency=args.latency, seed=args.seed,
              inflight_limit=args.inflight_limit)  # fmt: skip
    except ValueError as exc:  # a non-loopback host, a bad latency
        parser.error(str(exc))
    except OSError as exc:  # the port is taken
        parser.exit(1, f"cannot serve on {args.host}:{args.port}: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
