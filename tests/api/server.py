"""Run an ASGI app on a real loopback socket in a daemon thread (used by the API tests)."""

import asyncio
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

both_databases = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
"""Run one test on SQLite and on PostgreSQL (tests/api/conftest.py's `db_url` reads the parameter)."""


def free_port() -> int:
    """A port nobody listens on right now (for subprocesses that must bind it themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bound_socket() -> socket.socket:
    """A socket bound to a free loopback port, to hand to uvicorn (no other process can take the port).

    IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP (accepted ones inherit it);
    without it each response waits ~40 ms for the client's delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class QuickStopServer(uvicorn.Server):
    """uvicorn's server without its fixed pauses on the way out (up to 0.1 s for the main loop to see should_exit,
    then 0.1 s of grace before waiting for the connections): a test starts and stops one, thousands of times a run.
    It still lets open requests finish and runs the app's lifespan shutdown."""

    TICK = 0.005

    async def main_loop(self) -> None:
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(self.TICK)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # an idle keep-alive connection closes now, a busy one after its response
        deadline = time.monotonic() + STOP_TIMEOUT
        while (self.server_state.connections or self.server_state.tasks) and time.monotonic() < deadline:
            await asyncio.sleep(self.TICK)
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


@contextmanager
def running_server(app, sock: socket.socket | None = None) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 (on `sock` when given) and yield its base URL; stop it on exit."""
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    server = QuickStopServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("uvicorn exited before it started")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {STARTUP_TIMEOUT} s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT + 5)
        sock.close()


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a child process, killing it if it does not stop in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
