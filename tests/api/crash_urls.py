"""The real URLs plus one API view that crashes, to prove the 500 answer."""

from django.urls import path
from rest_framework.views import APIView

from ozonseat.urls import handler400, handler404, handler500  # noqa: F401
from ozonseat.urls import urlpatterns as real_urlpatterns


class CrashView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [path("api/v1/crash", CrashView.as_view()), *real_urlpatterns]
