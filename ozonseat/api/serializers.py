from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


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
