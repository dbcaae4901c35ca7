"""What tracing a run's stages costs: one ingest of N employees (SQLite source, SQLite hub store, batches of
10,000) with tracing off, then on (spans sent to an OTLP/HTTP sink on loopback), in fresh processes.

``python -m bench.tracing_overhead [ROWS] [REPEATS]`` prints the median seconds of each and the difference.
"""

from __future__ import annotations

import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

RUN = """
import sys, time
from officehub.config import load_project
from officehub.engine import sync
began = time.perf_counter()
(result,) = sync(load_project(sys.argv[1]), ["hr_in"])
assert result.status == "succeeded", result.error
print(time.perf_counter() - began, result.metrics.records_written)
"""


def _estate(folder: Path, rows: int, collector: str | None) -> Path:
    folder.mkdir(parents=True)
    with sqlite3.connect(folder / "hr.db") as db:
        db.execute("CREATE TABLE employees (emp_id TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, "
                   "birth_date TEXT, email TEXT, department TEXT, hire_date TEXT)")
        db.executemany("INSERT INTO employees VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ((f"E-{i}", f"First{i % 997}", f"Last{i % 991}", f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}",
                         f"person{i}@example.com", ("Sales", "Finance", "Logistics")[i % 3], "2020-01-01") for i in range(rows)))
    config = {"hub": {"name": "bench", "store": "sqlite:///hub.db", "batch_size": 10_000},
              "systems": {"hr": {"type": "sql", "url": "sqlite:///hr.db"}},
              "mappings": {"hr": {"system": "hr", "stream": "employees", "target": "employee", "key": "emp_id",
                                  "fields": {"employee_number": "emp_id", "name.first": "first_name",
                                             "name.last": "last_name", "birth_date": "birth_date",
                                             "contact.email": "email", "employment.department": "department",
                                             "employment.hire_date": "hire_date"}}},
              "pipelines": {"hr_in": {"kind": "ingest", "mapping": "hr"}}}
    if collector:
        config["telemetry"] = {"endpoint": collector}
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def _sink() -> tuple[ThreadingHTTPServer, list[int]]:
    sizes: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            sizes.append(len(self.rfile.read(int(self.headers.get("Content-Length", "0")))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, sizes


def main(rows: int = 300_000, repeats: int = 3) -> None:
    """Time the ingest with tracing off and on, ``repeats`` times each, alternating."""
    server, sizes = _sink()
    collector = f"http://127.0.0.1:{server.server_address[1]}"
    times: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            for mode in ("off", "on"):
                folder = _estate(Path(tmp) / f"{mode}{i}", rows, collector if mode == "on" else None)
                done = subprocess.run([sys.executable, "-c", RUN, str(folder)], capture_output=True, text=True,
                                      check=True)
                seconds, written = done.stdout.split()
                assert int(written) == rows
                times[mode].append(float(seconds))
    server.shutdown()
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    print(f"{rows} rows, batches of 10,000, median of {repeats}: tracing off {off:.2f} s, on {on:.2f} s "
          f"({(on - off) / off:+.1%}); {len(sizes)} OTLP posts, {sum(sizes)} bytes")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
