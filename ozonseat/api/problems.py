"""RFC 9457 problem details: one JSON shape for every API error.

Each kind of problem has a stable `type` URI (a URN, so it never depends on where OzonSeat is hosted) and a
translated `title`. `detail` says what happened this time; `errors` maps field names to messages."""

from dataclasses import dataclass

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:ozonseat:problem:"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_PREFIX + self.slug


_TYPES: dict[str, ProblemType] = {}


def _register(slug: str, status: int, title) -> ProblemType:
    _TYPES[slug] = ProblemType(slug, status, title)
    return _TYPES[slug]


INVALID = _register("invalid", 400, _("The request is not valid."))
MALFORMED = _register("malformed", 400, _("The request body could not be read."))
UNAUTHENTICATED = _register("unauthenticated", 401, _("Authentication is needed."))
FORBIDDEN = _register("forbidden", 403, _("You do not have permission to do this."))
TWO_FACTOR_REQUIRED = _register(
    "two-factor-required", 403, _("Two-factor sign-in must be set up before this token can be used.")
)
NOT_FOUND = _register("not-found", 404, _("Not found."))
METHOD_NOT_ALLOWED = _register("method-not-allowed", 405, _("This method is not allowed here."))
NOT_ACCEPTABLE = _register("not-acceptable", 406, _("The requested response format is not available."))
CONFLICT = _register("conflict", 409, _("This conflicts with the current state."))
IDEMPOTENCY_IN_PROGRESS = _register(
    "idempotency-key-in-progress", 409, _("A request with this Idempotency-Key is still being processed.")
)
TOO_LARGE = _register("too-large", 413, _("The request body is too large."))
UNSUPPORTED_MEDIA_TYPE = _register("unsupported-media-type", 415, _("This content type is not supported."))
IDEMPOTENCY_KEY_REUSED = _register(
    "idempotency-key-reused", 422, _("This Idempotency-Key was already used with a different request.")
)
RATE_LIMITED = _register("rate-limited", 429, _("Too many requests."))
SERVER_ERROR = _register("server-error", 500, _("Something went wrong on our side."))


def all_problem_types() -> list[ProblemType]:
    return list(_TYPES.values())


def problem_body(
    problem: ProblemType, *, detail=None, errors=None, instance: str = "", code: str = "", **extra
):
    body = {
        "type": problem.uri,
        "title": str(problem.title),
        "status": problem.status,
        "detail": str(detail if detail is not None else problem.title),
    }
    if instance:
        body["instance"] = instance
    if code:
        body["code"] = code
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_json_response(request, problem: ProblemType, **kwargs) -> JsonResponse:
    """A problem response outside DRF (404 / 500 handlers for /api/ paths)."""
    body = problem_body(problem, instance=request.path, **kwargs)
    request_id = getattr(request, "request_id", "")
    if request_id:
        body["request_id"] = request_id
    return JsonResponse(
        body,
        status=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
