"""A sign-up view that enqueues the welcome email once the new user is committed."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from .jobs import send_welcome_email


@require_POST
def register(request: HttpRequest) -> JsonResponse:
    with transaction.atomic():
        user = User.objects.create_user(request.POST["username"], request.POST["email"])
        send_welcome_email.enqueue_on_commit(user.pk)
    return JsonResponse({"id": user.pk}, status=201)
