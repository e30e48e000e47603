"""``python -m sandbox``: run the sandbox exchange (REST + WebSocket on one port).

Examples::

    python -m sandbox                                 # default seed, market maker on
    python -m sandbox --no-maker --port 9000          # a still book for tests
    python -m sandbox --no-history                    # no past: empty charts and trades
    python -m sandbox --seed my_seed.yml --dump-keys  # print the keys and exit
    python -m sandbox --faults '{"latency_ms": 50, "error_rate": 0.1}'

A malformed seed file or fault setting stops start-up with a message (exit code 2).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys

from sandbox.faults import FaultError, Faults
from sandbox.seed import SeedError, load_seed


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Run the sandbox exchange: Backpack's REST and WebSocket API on one port.",
    )
    parser.add_argument("--seed", help="seed file (JSON or YAML); default: the built-in seed")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-maker", action="store_true", help="no market maker: a still book")
    parser.add_argument("--maker-seed", type=int, default=1, help="random seed of the maker")
    parser.add_argument(
        "--maker-rate",
        type=float,
        default=0.0,
        help="depth updates per second per market from the maker (0: a calm market)",
    )
    parser.add_argument(
        "--rate-standard", type=int, default=2000, help="requests per minute per API key (0: off)"
    )
    parser.add_argument(
        "--rate-historical",
        type=int,
        default=30,
        help="klines / trade history / wapi history requests per minute per key (0: off)",
    )
    parser.add_argument(
        "--no-history", action="store_true", help="no start-up history: empty charts and trades"
    )
    parser.add_argument(
        "--history-seed", type=int, default=1, help="random seed of the start-up history"
    )
    parser.add_argument(
        "--history-limit",
        type=int,
        default=20_000,
        help="rows of each account history kept per subaccount (fills, orders, funding, ...)",
    )
    parser.add_argument("--faults", help="fault injection as a JSON object (see sandbox.faults)")
    parser.add_argument("--dump-keys", action="store_true", help="print the keys as JSON, exit")
    parser.add_argument(
        "--ws-ping-interval", type=float, default=60.0, help="seconds between server pings"
    )
    parser.add_argument(
        "--ws-ping-timeout", type=float, default=120.0, help="close after this long without pong"
    )
    parser.add_argument(
        "--withdrawal-confirm-s", type=float, default=1.0, help="pending -> confirmed delay"
    )
    parser.add_argument("--log-level", default="warning")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, then serve (or dump keys); returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        seed = load_seed(args.seed)
    except SeedError as exc:
        print(f"sandbox: bad seed file: {exc}", file=sys.stderr)
        return 2
    if args.dump_keys:
        print(json.dumps(seed.keys(), indent=2))
        return 0
    faults: dict = {}
    if args.faults:
        try:
            faults = json.loads(args.faults)
            Faults().update(faults)
        except (ValueError, FaultError) as exc:
            print(f"sandbox: bad --faults: {exc}", file=sys.stderr)
            return 2
    for name in ("rate_standard", "rate_historical", "port", "maker_rate", "withdrawal_confirm_s"):
        if getattr(args, name) < 0:
            print(f"sandbox: --{name.replace('_', '-')} must be >= 0", file=sys.stderr)
            return 2
    if args.history_limit < 1:
        print("sandbox: --history-limit must be >= 1", file=sys.stderr)
        return 2
    from sandbox.engine.ledger import history_limit_set

    history_limit_set(args.history_limit)

    import uvicorn

    from sandbox.server import ServerConfig
    from sandbox.server.app import asgi_app

    config = ServerConfig(
        seed=seed,
        maker=not args.no_maker,
        maker_seed=args.maker_seed,
        maker_rate=args.maker_rate,
        rate_standard=args.rate_standard,
        rate_historical=args.rate_historical,
        faults=faults,
        withdrawal_confirm_s=args.withdrawal_confirm_s,
        history=not args.no_history,
        history_seed=args.history_seed,
    )
    app = asgi_app(config)
    # Keep what start-up built (seed, books, imports) out of the cyclic collector's walks, as
    # the dashboard does (dashboard/heap.py): its full collections stalled the engine's
    # streams for tens of milliseconds under the relay benchmark's load.
    gc.collect()
    gc.freeze()
    print(f"sandbox exchange on http://{args.host}:{args.port} (ws://{args.host}:{args.port}/)")
    sys.stdout.flush()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        access_log=False,
        log_level=args.log_level,
        ws_ping_interval=args.ws_ping_interval,
        ws_ping_timeout=args.ws_ping_timeout,
        ws_max_size=1 << 20,
        timeout_graceful_shutdown=2,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
