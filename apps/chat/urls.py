"""URLs of /api/v1/chat/."""

from django.urls import path

from apps.chat import views
from apps.core.http.routers import AppRouter

router = AppRouter()
router.register("rooms", views.RoomViewSet, basename="chat-room")
router.register(
    f"rooms/(?P<room_pk>{views.UUID_PATTERN})/messages",
    views.MessageViewSet,
    basename="chat-message",
)

urlpatterns = [
    *router.urls,
    path(
        "messages/<uuid:pk>/attachment/",
        views.MessageAttachmentUploadAPIView.as_view(),
        name="chat-message-attachment",
    ),
]
