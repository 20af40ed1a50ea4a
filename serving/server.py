"""``ModelServer``: the REST (uvicorn) and gRPC servers around one ``ModelManager``."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kerazoo.errors import ConfigError, KerazooError
from kerazoo.serving.batching import BatchingOptions
from kerazoo.serving.limits import InputLimits
from kerazoo.serving.manager import ModelManager

logger = logging.getLogger("kerazoo.serving")


@dataclass
class ServerConfig:
    """What ``kerazoo serve`` serves and how.

    Args:
        export_dir: The model base directory (``EXPORT_DIR/<version>/saved_model.pb``).
        model_name: Name in URLs and gRPC ``model_spec.name``. Defaults to ``"default"`` (as
            ``tensorflow_model_server``).
        host: Interface to bind. Defaults to ``"127.0.0.1"`` (this machine only).
        rest_port: REST port; 0 picks a free one, -1 turns REST off. Defaults to 8501.
        grpc_port: gRPC port; 0 picks a free one, -1 turns gRPC off. Defaults to 8500.
        batching: Dynamic batching options, or None for none. Defaults to None.
        max_request_bytes: Largest accepted request body / message. Defaults to 16 MiB.
        poll_interval_s: Seconds between scans for new versions; 0 turns it off. Defaults to 2.
        shutdown_timeout_s: How long SIGTERM waits for in-flight requests. Defaults to 10.
        limits: Decoded-size budgets (image pixels, WAV seconds) and the non-finite policy.
            Defaults to ``InputLimits()`` (50 MP, 600 s, NaN/Infinity refused).
        workers: REST threads that parse and predict off the event loop. Defaults to 4.
        max_queue: Most REST requests in progress at once (running, queued or reading their
            body); the next gets HTTP 503 with Retry-After. Also gRPC's concurrent RPC limit
            (RESOURCE_EXHAUSTED above it). Defaults to 64.
        header_timeout_s: A connection that has not sent complete request headers this long
            after connecting (or after its previous response) is closed. Defaults to 10.
        body_timeout_s: A body that stalls this long between reads gets HTTP 408. Defaults to 30.
        keep_alive_timeout_s: Idle keep-alive connections are closed after this. Defaults to 5.
        max_connections: Most open REST connections; more are closed at once. Defaults to 1000.
        large_request_bytes: REST bodies from this size on are parsed (and answered) in a
            separate process, so that one huge request cannot hold the GIL against the small
            ones; 0 turns the process off. Defaults to 1 MiB.
    """

    export_dir: str | Path
    model_name: str = "default"
    host: str = "127.0.0.1"
    rest_port: int = 8501
    grpc_port: int = 8500
    batching: BatchingOptions | None = None
    max_request_bytes: int = 16 << 20
    poll_interval_s: float = 2.0
    shutdown_timeout_s: float = 10.0
    limits: InputLimits = field(default_factory=InputLimits)
    workers: int = 4
    max_queue: int = 64
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keep_alive_timeout_s: float = 5.0
    max_connections: int = 1000
    large_request_bytes: int = 1 << 20

    def __post_init__(self) -> None:
        for name in ("header_timeout_s", "body_timeout_s", "keep_alive_timeout_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0. Received: {getattr(self, name)}")
        if self.max_connections < 1:
            raise ConfigError(f"max_connections must be >= 1. Received: {self.max_connections}")
        if self.workers < 1 or self.max_queue < self.workers:
            raise ConfigError(
                f"need workers >= 1 and max_queue >= workers. Received: workers={self.workers}, "
                f"max_queue={self.max_queue}"
            )


class ModelServer:
    """Bind the ports, load ``config.export_dir`` (refusing corrupt versions) and serve it.

    The ports are bound first, so a port in use fails in milliseconds, before the model loads.
    ``start()`` runs both servers on background threads and returns; ``stop()`` drains them.
    ``serve_forever()`` does both around a wait for SIGTERM or SIGINT (the CLI's path).

    Args:
        config: What to serve and where.

    Raises:
        KerazooError: a port is taken. DataError: no version of the model can be served.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.rest_port: int | None = None
        self.grpc_port: int | None = None
        self._uvicorn = None
        self._rest_thread: threading.Thread | None = None
        self._rest_socket: socket.socket | None = None
        self._grpc = None
        self._pool = None
        self.manager: ModelManager | None = None
        try:
            self._bind_rest()
            self._bind_grpc()
            self.manager = ModelManager(
                config.export_dir, config.model_name,
                poll_interval_s=config.poll_interval_s, batching=config.batching,
            )
        except BaseException:
            self._release_ports()
            raise

    def _bind_rest(self) -> None:
        config = self.config
        if config.rest_port < 0:
            return
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on sockets that say they are TCP;
        # without it each response waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        # SO_REUSEADDR (not SO_REUSEPORT): restarts reuse a port in TIME_WAIT, but a port
        # another server listens on still fails to bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((config.host, config.rest_port))
        except OSError as error:
            sock.close()
            raise KerazooError(
                f"cannot bind the REST server to {config.host}:{config.rest_port}: "
                f"{error.strerror or error}; is another server using it? Pick another port or "
                "pass --rest-port 0 for a free one"
            ) from None
        sock.listen(2048)
        self._rest_socket = sock
        self.rest_port = sock.getsockname()[1]

    def _bind_grpc(self) -> None:
        config = self.config
        if config.grpc_port < 0:
            return
        from kerazoo.serving.grpc_service import build_grpc_server

        # The servicers look the manager up per call: the port is bound before the model loads.
        self._grpc, self.grpc_port = build_grpc_server(
            lambda: self.manager, f"{config.host}:{config.grpc_port}",
            max_message_bytes=config.max_request_bytes, limits=config.limits,
            max_concurrent_rpcs=config.max_queue,
        )

    def _release_ports(self) -> None:
        if self._rest_socket is not None and self._uvicorn is None:
            self._rest_socket.close()
            self._rest_socket = None
        self._stop_grpc(0)

    def start(self) -> None:
        """Start both servers on the bound ports; returns once they accept connections."""
        import uvicorn

        from kerazoo.serving.rest import create_app
        from kerazoo.serving.workers import WorkerPool

        config = self.config
        if self._grpc is not None:
            self._grpc.start()
        if self._rest_socket is not None:
            self._pool = WorkerPool(config.workers, config.max_queue,
                                    large_lane=config.large_request_bytes > 0)
            app = create_app(
                self.manager, max_request_bytes=config.max_request_bytes, limits=config.limits,
                pool=self._pool, body_timeout_s=config.body_timeout_s,
                large_body_bytes=max(config.large_request_bytes, 1),
            )
            self._uvicorn = uvicorn.Server(uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="off",
                timeout_graceful_shutdown=config.shutdown_timeout_s, backlog=2048,
                http=guarded_h11_protocol(config.header_timeout_s, config.max_connections),
                timeout_keep_alive=config.keep_alive_timeout_s,
            ))
            # uvicorn off the main thread installs no signal handlers: shutdown stays ours.
            self._rest_thread = threading.Thread(
                target=self._uvicorn.run, kwargs={"sockets": [self._rest_socket]},
                name="kerazoo-rest", daemon=True,
            )
            self._rest_thread.start()
            while not self._uvicorn.started and self._rest_thread.is_alive():
                threading.Event().wait(0.02)
            if not self._uvicorn.started:
                raise KerazooError("the REST server failed to start (see the log above)")
        self.manager.start_polling()

    def stop(self) -> None:
        """Stop taking requests, let in-flight ones finish, then release everything."""
        timeout = self.config.shutdown_timeout_s
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        self._stop_grpc(timeout)
        if self._rest_thread is not None:
            self._rest_thread.join(timeout + 5)
        self._release_ports()
        if self._pool is not None:
            self._pool.close()
        if self.manager is not None:
            self.manager.close()

    def _stop_grpc(self, grace: float) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace).wait(grace + 5)
            self._grpc = None

    def serve_forever(self) -> None:
        """Start, print where, and serve until SIGTERM or SIGINT; then shut down gracefully."""
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.start()
            where = []
            if self.rest_port is not None:
                where.append(f"REST http://{self.config.host}:{self.rest_port}")
            if self.grpc_port is not None:
                where.append(f"gRPC {self.config.host}:{self.grpc_port}")
            refused = sorted(self.manager.refused)
            print(
                f"kerazoo serve: model {self.config.model_name!r} versions "
                f"{self.manager.versions()}"
                + (f" (refused: {refused}, see GET /v1/models/{self.config.model_name})"
                   if refused else "")
                + f" on {', '.join(where)}",
                flush=True,
            )
            while not stop.wait(0.5):
                if self._rest_thread is not None and not self._rest_thread.is_alive():
                    raise KerazooError("the REST server stopped unexpectedly")
            logger.info("shutting down: finishing in-flight requests")
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        print("kerazoo serve: stopped", flush=True)


def guarded_h11_protocol(header_timeout_s: float, max_connections: int) -> type:
    """uvicorn's h11 protocol with a request-header timeout and a connection cap.

    uvicorn times out idle keep-alive connections but not a client that sends half a request
    line and stops (slowloris): such a connection would hold a file descriptor forever. Here
    every connection must complete its request headers within ``header_timeout_s`` of
    connecting or of its previous response, and connections above ``max_connections`` are
    closed as soon as they are accepted.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _header_timer = None

        def connection_made(self, transport) -> None:  # noqa: ANN001
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                logger.warning("closing a new connection: %d open, the limit "
                               "(--max-connections) is %d", len(self.connections) - 1,
                               max_connections)
                transport.close()
                return
            self._arm_header_timer()

        def _arm_header_timer(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout_s, self._header_timeout)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timeout(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                logger.debug("closing %s: no complete request headers within %g s",
                             self.client, header_timeout_s)
                self.transport.close()

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE:
                self._arm_header_timer()  # a keep-alive connection starting its next request
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

    return GuardedH11Protocol
