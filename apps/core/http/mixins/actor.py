"""`ActorContextMixin`: who acts in this request, for the audit log."""

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.platform.context import ActorContext, client_ip, set_actor_context


class ActorContextMixin(APIView):
    """Binds the authenticated user, IP and user agent while the request runs.

    Needs only APIView; the audit writer reads the binding, services never see the request.
    """

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        """After authentication, record who is acting."""
        super().initial(request, *args, **kwargs)
        set_actor_context(
            ActorContext(
                user=request.user,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        )

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Clear the actor once the response is built."""
        set_actor_context(None)
        return super().finalize_response(request, response, *args, **kwargs)
