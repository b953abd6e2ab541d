"""The REST API's shared pieces: authentication, errors (RFC 9457 problem details), limits, the
seller-scoped base view, pagination and the OpenAPI schema. Resources live in the modules next to it."""
