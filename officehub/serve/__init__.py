"""``officehub serve``: the web console and the hub API, one ASGI application on the hub store.

The console (server-rendered pages, ``console/``) is for the people who are not terminal
users: operators, data stewards, compliance officers and administrators, each signed in
with their own account and role. The hub API (``api/``, under ``/api/v1``) is for
applications that use the hub as their shared customer database; each is a destination
with its own agreement and policy. Both call the audited services of
:mod:`officehub.services` and build no SQL of their own (docs/adr/0019, 0022).

:func:`officehub.serve.app.create_app` builds the application for a project;
``officehub.serve.asgi:app`` is the same for any ASGI server, configured by environment.
"""
