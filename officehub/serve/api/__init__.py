"""The hub API under ``/api/v1``: applications read, search and follow golden records, each as a destination."""
