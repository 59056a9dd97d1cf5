"""The FastAPI application of the local backend."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .backend import LocalBackend
from .errors import ApiError, validation_envelope
from .middleware import AuthMiddleware, BodyLimitMiddleware, FaultMiddleware, RequestIdMiddleware
from .routes import computers, platform, terminals

log = logging.getLogger("celesto_api.local")


def _error_entries(exc: RequestValidationError) -> list[dict[str, Any]]:
    entries = []
    for error in exc.errors():
        entry = {key: value for key, value in error.items() if key != "url"}
        entries.append(jsonable_encoder(entry, custom_encoder={Exception: str}))
    return entries


def create_app(backend: LocalBackend) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await backend.startup()
        try:
            yield
        finally:
            await backend.shutdown()

    app = FastAPI(
        title="Celesto local backend",
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.backend = backend

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        entries = _error_entries(exc)
        if request.url.path.startswith("/v1/computers"):
            return JSONResponse(validation_envelope(entries), 422)
        return JSONResponse({"detail": entries}, 422)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in the local backend")
        return JSONResponse(
            {"detail": f"Internal error in the local backend ({type(exc).__name__})."}, 500
        )

    app.include_router(platform.router)
    app.include_router(computers.router)
    app.include_router(terminals.router)
    from .routes import deploy

    app.include_router(deploy.router)

    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(FaultMiddleware, faults=backend.faults)
    app.add_middleware(AuthMiddleware, api_key=backend.api_key)
    app.add_middleware(RequestIdMiddleware)
    return app
