"""Turning every error under /api/ into problem details: service errors from `ozonseat.errors`, DRF and
Django exceptions. Anything else is a bug: it propagates, is logged, and the 500 handler answers."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from ozonseat import errors

from . import problems


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


class TwoFactorRequired(exceptions.PermissionDenied):
    """A valid token of a person whose seller requires two-factor sign-in, which they have not set up. 403,
    not 401: the token was recognised and sending it again cannot help; the person must enrol."""

    default_detail = _(
        "This seller requires two-factor sign-in. The token's owner must set it up (sign in to the "
        "dashboard, or open their profile) before the token works again."
    )
    default_code = "two_factor_required"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _("This Idempotency-Key was already used with a different request.")
    default_code = "idempotency_key_reused"


class IdempotencyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("A request with this Idempotency-Key is still being processed. Retry later.")
    default_code = "idempotency_in_progress"


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as {"field": [...], "items.3.permission": [...]}; errors that belong
    to no field go under "non_field_errors"."""
    result: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key in ("non_field_errors", "__all__") and not prefix:
                name = "non_field_errors"
            for field, messages in flatten_errors(value, name).items():
                result.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            result.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if not item:
                    continue
                for field, messages in flatten_errors(
                    item, f"{prefix}.{index}" if prefix else str(index)
                ).items():
                    result.setdefault(field, []).extend(messages)
    elif detail:
        result.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return result


def _service_problem(exc: errors.ServiceError):
    if isinstance(exc, errors.NotFound):
        return problems.NOT_FOUND, None
    if isinstance(exc, errors.NotAllowed):
        return problems.FORBIDDEN, None
    if isinstance(exc, errors.Conflict):
        return problems.CONFLICT, ({exc.field: [str(exc.message)]} if exc.field else None)
    if isinstance(exc, errors.InvalidInput):
        return problems.INVALID, {field: [str(m) for m in messages] for field, messages in exc.errors.items()}
    return problems.INVALID, ({exc.field: [str(exc.message)]} if exc.field else None)


_DRF_PROBLEMS = [
    (exceptions.ParseError, problems.MALFORMED),
    (exceptions.ValidationError, problems.INVALID),
    (exceptions.NotAuthenticated, problems.UNAUTHENTICATED),
    (exceptions.AuthenticationFailed, problems.UNAUTHENTICATED),
    (TwoFactorRequired, problems.TWO_FACTOR_REQUIRED),
    (exceptions.PermissionDenied, problems.FORBIDDEN),
    (exceptions.NotFound, problems.NOT_FOUND),
    (exceptions.MethodNotAllowed, problems.METHOD_NOT_ALLOWED),
    (exceptions.NotAcceptable, problems.NOT_ACCEPTABLE),
    (exceptions.UnsupportedMediaType, problems.UNSUPPORTED_MEDIA_TYPE),
    (exceptions.Throttled, problems.RATE_LIMITED),
    (PayloadTooLarge, problems.TOO_LARGE),
    (IdempotencyKeyReused, problems.IDEMPOTENCY_KEY_REUSED),
    (IdempotencyInProgress, problems.IDEMPOTENCY_IN_PROGRESS),
]


def _respond(request, problem, *, detail=None, errors=None, code="", headers=None) -> Response:
    instance = request.path if request is not None else ""
    body = problems.problem_body(problem, detail=detail, errors=errors, instance=instance, code=code)
    request_id = getattr(request, "request_id", "") if request is not None else ""
    if request_id:
        body["request_id"] = request_id
    response = Response(body, status=problem.status, headers=headers or {})
    response.content_type = problems.PROBLEM_CONTENT_TYPE
    return response


def exception_handler(exc, context):
    request = context.get("request")
    raw_request = getattr(request, "_request", request)

    if isinstance(exc, errors.ServiceError):
        problem, field_errors = _service_problem(exc)
        detail = (
            exc.message if not isinstance(exc, errors.InvalidInput) or not field_errors else problem.title
        )
        if isinstance(exc, errors.NotFound):
            detail = problem.title  # never say why: "missing" and "not yours" answer the same
        return _respond(raw_request, problem, detail=detail, errors=field_errors, code=exc.code)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, (TooManyFieldsSent, SuspiciousOperation)):
        exc = exceptions.ParseError()

    if not isinstance(exc, exceptions.APIException):
        return None

    problem = next((p for cls, p in _DRF_PROBLEMS if isinstance(exc, cls)), None)
    headers = {}
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        view = context.get("view")
        authenticate_header = view.get_authenticate_header(request) if view is not None else None
        if authenticate_header:
            headers["WWW-Authenticate"] = authenticate_header
        problem = problems.UNAUTHENTICATED
        exc.status_code = 401
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    if isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        if view is not None:
            headers["Allow"] = ", ".join(view.allowed_methods)
    if problem is None:
        problem = problems.ProblemType("error", exc.status_code, str(exc.default_detail))

    field_errors = None
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        field_errors = flatten_errors(exc.detail)
        detail = problem.title
    elif isinstance(exc, exceptions.Throttled):
        detail = _("Too many requests. Retry in %(seconds)d seconds.") % {
            "seconds": int(headers.get("Retry-After", "1"))
        }
    elif isinstance(exc, exceptions.MethodNotAllowed):
        detail = _("The method %(method)s is not allowed here.") % {
            "method": request.method if request else ""
        }
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        detail = _("Send the request body as application/json.")
    elif isinstance(exc, (exceptions.NotFound, exceptions.PermissionDenied)):
        detail = (
            problem.title
            if str(detail) in ("Not found.", "You do not have permission to perform this action.")
            else detail
        )
    code = exc.get_codes() if not isinstance(exc, exceptions.ValidationError) else "invalid"
    return _respond(
        raw_request,
        problem,
        detail=detail,
        errors=field_errors,
        code=code if isinstance(code, str) else "",
        headers=headers,
    )
