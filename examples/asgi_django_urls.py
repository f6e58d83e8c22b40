"""URLs of examples/asgi_django.py's Django side (TBone's ``/api`` never reaches Django)."""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path


def home(request: HttpRequest) -> JsonResponse:
    """Who Django thinks is signed in: the same user TBone sees."""
    return JsonResponse({"django": True, "user": request.user.get_username() or None})


urlpatterns = [path("admin/", admin.site.urls), path("", home)]
