"""A dispatcher's carrier calls in flight: recipient queues going out side by side on a few threads."""

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait


class Lanes:
    """Runs recipient queues (each a list of claimed ids, delivered in order) on `width` threads; with a width of
    1, in the caller's thread as they are started.

    The caller may start more queues before the last ones are done: `wait_for_room` returns once every queue
    started is at the carrier or done, so the next batch is claimed while the slowest queues of the one before are
    still out, and no thread idles waiting for them.
    """

    def __init__(self, deliver_queue: Callable[[list[str]], None], width: int, name: str):
        self._deliver_queue = deliver_queue
        self._width = width
        self._pool = ThreadPoolExecutor(width, thread_name_prefix=f"{name}-send") if width > 1 else None
        self._running: set[Future] = set()

    def start(self, queues: list[list[str]]) -> None:
        if self._pool is None:
            for queue in queues:
                self._deliver_queue(queue)
            return
        self._running.update(self._pool.submit(self._deliver_queue, queue) for queue in queues)

    @property
    def busy(self) -> bool:
        """Some queue started is not done."""
        return bool(self._running)

    def wait_for_room(self) -> None:
        """Until no queue started waits for a thread."""
        self._wait_until(self._width)

    def wait_all(self) -> None:
        self._wait_until(0)

    def close(self) -> None:
        """Wait for every queue started, then let the threads go."""
        self.wait_all()
        if self._pool is not None:
            self._pool.shutdown()

    def __enter__(self) -> "Lanes":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _wait_until(self, most: int) -> None:
        while len(self._running) > most:
            done, self._running = wait(self._running, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()  # a queue's own failures are logged where they happen; anything else surfaces here
