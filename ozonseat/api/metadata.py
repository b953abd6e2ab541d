"""What an OPTIONS request answers: the resource's name and the methods it takes (also in the Allow
header), and where its fields are described.

DRF's SimpleMetadata builds a form description from the view's `serializer_class`; our views declare their
separate input and output serializers to drf-spectacular instead, so that description would be a 500 (as
it was for 15 operations). The OpenAPI schema is the one description of every field."""

from django.urls import reverse
from rest_framework.metadata import BaseMetadata


class OperationMetadata(BaseMetadata):
    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "methods": sorted(view.allowed_methods),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": request.build_absolute_uri(reverse("api:schema")),
        }
