"""SQL databases through SQLAlchemy: PostgreSQL, MariaDB/MySQL, SQLite and any other dialect."""

from connectors.sql.config import SqlConfig
from connectors.sql.connector import SqlConnector

__all__ = ["SqlConfig", "SqlConnector"]
