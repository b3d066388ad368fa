"""Domain errors, each carrying its HTTP status and code, and the one error body they share."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException


class AssistError(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(AssistError):
    status, code = 404, "not_found"


class PhraseNotFound(NotFound):
    code = "phrase_not_found"


class VersionConflict(AssistError):
    status, code = 409, "version_conflict"


class Conflict(AssistError):
    status, code = 409, "conflict"


class InvalidInput(AssistError):
    status, code = 422, "invalid_input"


class ImportInvalid(InvalidInput):
    code = "import_invalid"


class PayloadTooLarge(AssistError):
    status, code = 413, "payload_too_large"


class Unauthorized(AssistError):
    status, code = 401, "unauthorized"


class Forbidden(AssistError):
    status, code = 403, "forbidden"


class StoreUnavailable(AssistError):
    status, code = 503, "store_unavailable"


class BrokerUnavailable(AssistError):
    status, code = 503, "broker_unavailable"


class ErrorBody(BaseModel):
    """Every error response: a stable `code`, a `detail` for people, and fields some errors add (`errors`,
    `current_version`, ...)."""

    model_config = ConfigDict(extra="allow")
    detail: str | list[dict[str, Any]] = Field(
        description="a sentence; for `validation_error` the list of {loc, msg, type}"
    )
    code: str = Field(description="e.g. invalid_input, unauthorized, forbidden, not_found, version_conflict")


_MEANING = {
    400: "Bad request",
    401: "No or unknown token",
    403: "The token's role may not do this",
    404: "Not found",
    409: "Version conflict",
    413: "Too large",
    422: "Invalid input",
    503: "A backing service is unavailable or the service is shutting down",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the error statuses a route can answer with, all in the ErrorBody shape."""
    return {status: {"model": ErrorBody, "description": _MEANING.get(status, "Error")} for status in statuses}


def error_body(detail: Any, code: str, **extra: Any) -> dict[str, Any]:
    """The shape of every error the service sends: `{"detail", "code", ...}`."""
    return {"detail": detail, "code": code, **extra}


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AssistError)
    async def _assist(_: Request, exc: AssistError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.detail, exc.code, **exc.extra), status_code=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(exc.detail, code), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Keep FastAPI's list of {loc, msg, type} under "detail"; drop raw input, which may be chat text.
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(error_body(errors, "validation_error"), status_code=422)
