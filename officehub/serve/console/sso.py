"""Single sign-on through an OpenID Connect provider (``serve.oidc``)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
