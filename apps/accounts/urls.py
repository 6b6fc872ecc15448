"""URLs of /api/v1/auth/."""

from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.RegisterAPIView.as_view(), name="register"),
    path("login/", views.LoginAPIView.as_view(), name="login"),
    path("refresh/", views.RefreshAPIView.as_view(), name="refresh"),
    path("logout/", views.LogoutAPIView.as_view(), name="logout"),
    path("me/", views.MeAPIView.as_view(), name="me"),
    path("password/change/", views.PasswordChangeAPIView.as_view(), name="password-change"),
    path("password/reset/", views.PasswordResetAPIView.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        views.PasswordResetConfirmAPIView.as_view(),
        name="password-reset-confirm",
    ),
]
