"""OpenAPI: every operation documents its problem responses and the bearer token scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from . import problems
from .serializers import ProblemSerializer

_DESCRIPTIONS = {
    "400": "Invalid input (per-field `errors`) or an unreadable body",
    "401": "No credentials, or a token that is invalid, expired, revoked, or whose membership stopped",
    "403": "The caller lacks the permission",
    "404": "Does not exist, or is not the caller's seller's (both answer the same)",
    "405": "Method not allowed",
    "409": "Conflicts with the current state",
    "413": "Request body too large",
    "415": "Unsupported content type (send application/json)",
    "422": "Idempotency-Key reused with a different request",
    "429": "Rate limit exceeded; retry after `Retry-After` seconds",
}


class ProblemAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "404", "405", "429"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "413", "415"]
        if self.method == "DELETE":
            codes += ["409"]
        if self.get_operation_id() == "members_invite":
            codes += ["422"]
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        problem_ref = self.resolve_serializer(ProblemSerializer, "response").ref
        for code in self._error_codes():
            if code in responses:
                continue
            response = {
                "description": _DESCRIPTIONS[code],
                "content": {problems.PROBLEM_CONTENT_TYPE: {"schema": problem_ref}},
            }
            if code == "429":
                response["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                }
            if code == "401":
                response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            if code == "405":
                response["headers"] = {"Allow": {"schema": {"type": "string"}}}
            responses[code] = response
        return responses


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ozonseat.api.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`ozs_…`), created under /api/v1/sellers/{seller_id}/tokens.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "ozonseat.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "Browser session + CSRF.",
        }


# --- operation descriptions ------------------------------------------------------------------------
# Each operation's `description` (in its extend_schema) says, for API users, what it does and who may call
# it. These end that second part the same way everywhere.

ANY_MEMBER = "Any working member of the seller may call it."


def needs(permission: str) -> str:
    return f"Needs `{permission}`."
