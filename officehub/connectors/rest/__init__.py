"""REST/JSON vendor APIs: a YAML description per vendor, or a small subclass overriding hooks."""

from officehub.connectors.rest.auth import Authenticator
from officehub.connectors.rest.config import RestConfig, StreamSpec
from officehub.connectors.rest.connector import RestConnector
from officehub.connectors.rest.errors import RejectedRecords
from officehub.connectors.rest.pagination import PageRequest, PageState, Paginator

__all__ = ["Authenticator", "PageRequest", "PageState", "Paginator", "RejectedRecords", "RestConfig",
           "RestConnector", "StreamSpec"]
