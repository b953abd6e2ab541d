from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from ozonseat import errors


class StrictSerializer(serializers.Serializer):
    # An input serializer that refuses fields it does not know, instead of silently ignoring them.
    # A comment, not a docstring: drf-spectacular would publish it as the description of every request
    # body built on it.

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields or self.fields[key].read_only)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)


class SellerObjectIdField(serializers.IntegerField):
    """An id parameter naming one of the seller's objects (the seller is `context["seller"]`). `lookup` is
    the seller-scoped selector `(seller, id)` that finds it: a `get_<thing>_for_seller` raising NotFound,
    or an `is_<thing>_of_seller` answering False. An unknown id and another seller's answer the same field
    error, "Not found.", so nothing tells them apart; a non-integer is refused as by any IntegerField.
    The value stays the id."""

    def __init__(self, lookup, **kwargs):
        self.lookup = lookup
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)

    def run_validation(self, data=empty):
        value = super().run_validation(data)
        if value is not None and not self._names_an_object(value):
            raise serializers.ValidationError(errors.NotFound.default_message, code="not_found")
        return value

    def _names_an_object(self, value) -> bool:
        try:
            return bool(self.lookup(self.context["seller"], value))
        except errors.NotFound:
            return False


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(
        help_text="A stable URI naming the kind of problem, e.g. urn:ozonseat:problem:not-found"
    )
    title = serializers.CharField(help_text="Short translated summary of the kind of problem.")
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="Translated explanation of this occurrence.")
    instance = serializers.CharField(required=False, help_text="The request path.")
    code = serializers.CharField(required=False, help_text="A stable machine-readable reason.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages for validation problems: {field: [messages]}.",
    )
    request_id = serializers.CharField(required=False)
