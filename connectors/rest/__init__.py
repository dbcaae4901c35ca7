"""REST/JSON vendor APIs: a YAML description per vendor, or a small subclass overriding hooks."""

from connectors.rest.auth import Authenticator
from connectors.rest.config import RestConfig, StreamSpec
from connectors.rest.connector import RestConnector
from connectors.rest.errors import RejectedRecords
from connectors.rest.pagination import PageRequest, PageState, Paginator

__all__ = ["Authenticator", "PageRequest", "PageState", "Paginator", "RejectedRecords", "RestConfig",
           "RestConnector", "StreamSpec"]
