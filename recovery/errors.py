"""Domain errors. Services raise them; `register` maps them to HTTP once for the whole app."""

from __future__ import annotations

from flask import Flask, jsonify, request
from marshmallow import Schema, fields
from sqlalchemy.exc import IntegrityError
from werkzeug import exceptions
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """An error a user or a partner system can act on."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class ImportRejected(DomainError):
    """An import file with bad rows: nothing of it was stored."""

    status = 422
    code = "import_rejected"

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} row error(s); nothing was imported")


class ErrorSchema(Schema):
    """The error answer, as `register` writes it (the OpenAPI document's `Error`)."""

    status = fields.Integer(required=True, metadata={"description": "The HTTP status"})
    code = fields.String(required=True, metadata={"description": "What went wrong, for programs: bad_signature, "
                                                                 "json_required, customer_not_found, ..."})
    message = fields.String(required=True, metadata={"description": "What went wrong and what to do, for people"})
    errors = fields.Dict(metadata={"description": "422: the messages of each field, by location (json, query)"})


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register(app: Flask) -> None:
    """Map domain errors (and HTTP errors on the API) to JSON: status, code, message."""

    @app.errorhandler(DomainError)
    def domain_error(err: DomainError):
        if err.code == "role_not_allowed" and not _wants_json():
            # A page its role may not open (recovery.auth.permissions.require): the same 403 page as abort(403).
            return app.handle_http_exception(exceptions.Forbidden())
        return jsonify(status=err.status, code=err.code, message=err.message), err.status

    @app.errorhandler(IntegrityError)
    def integrity_error(err: IntegrityError):
        # Two requests racing to write one unique row (or one writing beside a row removed meanwhile): the loser
        # gets a 409 to retry, never a 500. Nothing of its transaction is kept.
        app.extensions["sqlalchemy"].session.rollback()  # the app's Flask-SQLAlchemy
        app.logger.warning("integrity conflict answered 409: %s", str(err.orig).splitlines()[0][:200])
        return domain_error(Conflict("another request changed the same record at the same moment; reload and try "
                                     "again", code="concurrent_change"))

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if not _wants_json():
            return err
        # flask-smorest/webargs put field-level messages in err.data.
        payload = {
            "status": err.code,
            "code": (err.name or "error").lower().replace(" ", "_"),
            "message": err.description,
        }
        data = getattr(err, "data", None)
        if isinstance(data, dict) and "messages" in data:
            payload["errors"] = data["messages"]
        return jsonify(payload), err.code
