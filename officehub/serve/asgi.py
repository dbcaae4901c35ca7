"""The application for any ASGI server: ``uvicorn officehub.serve.asgi:app`` (or gunicorn, hypercorn).

The project folder comes from ``OFFICEHUB_PROJECT`` (the current folder by default), as
for the command line; ``OFFICEHUB_DEBUG=1`` logs tracebacks of internal errors.
"""

from __future__ import annotations

import os
from pathlib import Path

from officehub.serve.app import create_app

app = create_app(Path(os.environ.get("OFFICEHUB_PROJECT", ".")), debug=os.environ.get("OFFICEHUB_DEBUG") == "1")
