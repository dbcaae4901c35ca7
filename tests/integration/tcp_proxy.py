"""A TCP proxy on loopback that cuts links: the first ``cuts`` connections are dropped after ``budget`` bytes.

Only the client → server direction is counted, so a cut lands in the middle of an upload.
Later connections pass untouched, as a WAN link does once it is back.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress

from tests.integration.sshd import free_port


class CuttingProxy:
    """127.0.0.1:``port`` → 127.0.0.1:``target``; cuts the first ``cuts`` connections after ``budget`` bytes."""

    def __init__(self, target: int, budget: int, cuts: int = 1) -> None:
        self.target, self.budget, self.cuts_left = target, budget, cuts
        self.port = free_port()
        self.cut_at: list[float] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CuttingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self._lock:
                budget = self.budget if self.cuts_left > 0 else None
                self.cuts_left -= budget is not None
            threading.Thread(target=self._pump, args=(client, upstream, budget), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, budget: int | None) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if budget is not None and sent + len(data) >= budget:
                    sink.sendall(data[:budget - sent])
                    self.cut_at.append(time.monotonic())
                    break  # the link drops: both sockets close below
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
