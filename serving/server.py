"""``ModelServer``: the REST (uvicorn) and gRPC servers around one ``ModelManager``."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from kerazoo.errors import KerazooError
from kerazoo.serving.batching import BatchingOptions
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


class ModelServer:
    """Load ``config.export_dir`` (refusing a corrupt or partial export) and serve it.

    ``start()`` runs both servers on background threads and returns; ``stop()`` drains them.
    ``serve_forever()`` does both around a wait for SIGTERM or SIGINT (the CLI's path).

    Args:
        config: What to serve and where.
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.manager = ModelManager(
            config.export_dir, config.model_name,
            poll_interval_s=config.poll_interval_s, batching=config.batching,
        )
        self.rest_port: int | None = None
        self.grpc_port: int | None = None
        self._uvicorn = None
        self._rest_thread: threading.Thread | None = None
        self._grpc = None

    def start(self) -> None:
        """Bind and start both servers; returns once they accept connections."""
        import uvicorn

        from kerazoo.serving.rest import create_app

        config = self.config
        if config.grpc_port >= 0:
            from kerazoo.serving.grpc_service import build_grpc_server

            self._grpc, self.grpc_port = build_grpc_server(
                self.manager, f"{config.host}:{config.grpc_port}",
                max_message_bytes=config.max_request_bytes,
            )
            self._grpc.start()
        if config.rest_port >= 0:
            family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
            # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on sockets that say they are TCP;
            # without it each response waits ~40 ms for a delayed ACK (Nagle).
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((config.host, config.rest_port))
            except OSError as error:
                sock.close()
                self._stop_grpc(0)
                raise KerazooError(
                    f"cannot bind the REST server to {config.host}:{config.rest_port}: {error}"
                ) from error
            sock.listen(2048)
            self.rest_port = sock.getsockname()[1]
            app = create_app(self.manager, max_request_bytes=config.max_request_bytes)
            self._uvicorn = uvicorn.Server(uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="off",
                timeout_graceful_shutdown=config.shutdown_timeout_s, backlog=2048,
            ))
            # uvicorn off the main thread installs no signal handlers: shutdown stays ours.
            self._rest_thread = threading.Thread(
                target=self._uvicorn.run, kwargs={"sockets": [sock]}, name="kerazoo-rest",
                daemon=True,
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
            print(
                f"kerazoo serve: model {self.config.model_name!r} versions "
                f"{self.manager.versions()} on {', '.join(where)}",
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
