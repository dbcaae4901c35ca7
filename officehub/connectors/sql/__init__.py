"""SQL databases through SQLAlchemy: PostgreSQL, MariaDB/MySQL, SQLite and any other dialect.

The Arrow ↔ SQL reading and writing underneath lives in :mod:`officehub.arrowsql`, which the hub
store shares.
"""

from officehub.connectors.sql.config import SqlConfig
from officehub.connectors.sql.connector import SqlConnector

__all__ = ["SqlConfig", "SqlConnector"]
