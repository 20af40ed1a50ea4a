"""``kerazoo serve EXPORT_DIR``: serve an export over TensorFlow Serving's REST and gRPC APIs."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve an exported SavedModel (TensorFlow Serving REST and gRPC APIs)",
        description=(
            "Serve EXPORT_DIR (EXPORT_DIR/<version>/saved_model.pb, as TensorFlow Serving "
            "expects) over TensorFlow Serving's REST and gRPC APIs. The newest version answers "
            "unversioned requests; new versions are picked up without a restart."
        ),
    )
    parser.add_argument("export_dir", metavar="EXPORT_DIR",
                        help="model base directory, or preset:NAME for a shipped preset")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--rest-port", type=int, default=8501,
                        help="REST port; 0 picks a free port, -1 turns REST off (default: 8501)")
    parser.add_argument("--grpc-port", type=int, default=8500,
                        help="gRPC port; 0 picks a free port, -1 turns gRPC off (default: 8500)")
    parser.add_argument("--model-name", default="default",
                        help="model name in URLs and model_spec.name (default: default)")
    parser.add_argument("--batching", action="store_true",
                        help="turn on server-side dynamic batching")
    parser.add_argument("--max-batch-size", type=int, default=32,
                        help="most rows in one batched call (default: 32)")
    parser.add_argument("--batch-timeout-ms", type=float, default=2.0,
                        help="how long a batch waits to fill, in ms (default: 2)")
    parser.add_argument("--max-request-bytes", type=int, default=16 << 20,
                        help="largest request body accepted (default: 16 MiB)")
    parser.add_argument("--poll-seconds", type=float, default=2.0,
                        help="seconds between scans for new versions; 0: off (default: 2)")
    parser.add_argument("--shutdown-timeout", type=float, default=10.0,
                        help="seconds SIGTERM waits for in-flight requests (default: 10)")
    limits = parser.add_argument_group("limits and timeouts")
    limits.add_argument("--max-image-pixels", type=int, default=50_000_000,
                        help="largest width x height an encoded image may declare in its "
                             "header, checked before decoding (default: 50000000, 50 MP)")
    limits.add_argument("--max-audio-seconds", type=float, default=600.0,
                        help="longest duration a WAV input may declare (default: 600)")
    limits.add_argument("--allow-non-finite", action="store_true",
                        help="accept NaN and Infinity in float inputs (default: HTTP 400)")
    limits.add_argument("--workers", type=int, default=4,
                        help="REST threads that parse and predict (default: 4)")
    limits.add_argument("--max-queue", type=int, default=64,
                        help="most requests in progress; more get HTTP 503 + Retry-After "
                             "(gRPC: RESOURCE_EXHAUSTED) (default: 64)")
    limits.add_argument("--header-timeout", type=float, default=10.0,
                        help="seconds a connection may take to send its request headers "
                             "(default: 10)")
    limits.add_argument("--body-timeout", type=float, default=30.0,
                        help="seconds a request body may stall between reads; then HTTP 408 "
                             "(default: 30)")
    limits.add_argument("--keep-alive-timeout", type=float, default=5.0,
                        help="seconds an idle keep-alive connection stays open (default: 5)")
    limits.add_argument("--max-connections", type=int, default=1000,
                        help="most open REST connections; more are closed (default: 1000)")
    limits.add_argument("--large-request-bytes", type=int, default=1 << 20,
                        help="REST bodies from this size on are parsed in a separate process "
                             "so they cannot stall small requests; 0: off (default: 1 MiB)")
    parser.set_defaults(run=run)


def resolve_export_dir(argument: str) -> str:
    """The model base directory EXPORT_DIR names: a path, or ``preset:NAME`` (a shipped preset,
    exported once into the cache and verified)."""
    from kerazoo.recipes.preset_runs import preset_name, resolve_run

    if preset_name(argument) is None:
        return argument
    return str(resolve_run(argument) / "export")


def run(args: argparse.Namespace) -> int:
    from kerazoo.errors import ConfigError
    from kerazoo.serving.batching import BatchingOptions
    from kerazoo.serving.limits import InputLimits
    from kerazoo.serving.server import ModelServer, ServerConfig

    if args.rest_port < 0 and args.grpc_port < 0:
        raise ConfigError("--rest-port and --grpc-port are both -1: nothing to serve")
    try:
        batching = (
            BatchingOptions(args.max_batch_size, args.batch_timeout_ms) if args.batching else None
        )
        limits = InputLimits(args.max_image_pixels, args.max_audio_seconds, args.allow_non_finite)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    config = ServerConfig(
        export_dir=resolve_export_dir(args.export_dir), model_name=args.model_name,
        host=args.host, rest_port=args.rest_port, grpc_port=args.grpc_port, batching=batching,
        max_request_bytes=args.max_request_bytes, poll_interval_s=args.poll_seconds,
        shutdown_timeout_s=args.shutdown_timeout, limits=limits, workers=args.workers,
        max_queue=args.max_queue, header_timeout_s=args.header_timeout,
        body_timeout_s=args.body_timeout, keep_alive_timeout_s=args.keep_alive_timeout,
        max_connections=args.max_connections, large_request_bytes=args.large_request_bytes,
    )
    ModelServer(config).serve_forever()
    return 0
