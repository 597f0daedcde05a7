from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),  # Mission Control: /admin/django_solidq/
    path("users/", views.register, name="register"),
]
