"""`IdempotencyMixin`: methods that run once per Idempotency-Key and replay for retries."""

from typing import Any, ClassVar, cast

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.http.envelope import AnswerContent, AppResponse
from apps.core.idempotency.flow import HEADER, REPLAY_HEADER, StoredAnswer, idempotency_slot


class IdempotencyMixin(APIView):
    """`idempotent_methods = ("POST",)` (or, on a viewset, `idempotent_actions = ("create",)`):
    those requests need an Idempotency-Key and run once.

    Needs only APIView. The flow (apps.core.idempotency.flow) runs after authentication,
    permissions and throttles: the handler runs in one transaction with the storing of its
    answer; a retry gets the stored answer with `Idempotent-Replayed: true`.
    """

    idempotent_methods: ClassVar[tuple[str, ...]] = ()
    idempotent_actions: ClassVar[tuple[str, ...]] = ()

    def requires_idempotency(self, method: str) -> bool:
        """Whether this request's method (or, on a viewset, its action) runs once per key."""
        if method in self.idempotent_methods:
            return True
        action_map: dict[str, str] = getattr(self, "action_map", None) or {}
        return action_map.get(method.lower()) in self.idempotent_actions

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """DRF's request cycle, with the handler of an idempotent method run once per key.

        The steps are APIView.dispatch's, through its documented hooks (`initialize_request`,
        `initial`, `handle_exception`, `finalize_response`), so the flow can hold its key
        around the handler alone; tests/core/idempotency pins that both paths answer alike.
        """
        if not self.requires_idempotency(str(request.method)):
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs = args, kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            self.initial(drf_request, *args, **kwargs)
            response = self.idempotent_handle(drf_request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - as DRF's dispatch: the handler answers
            response = self.handle_exception(exc)
        finalized: Response = self.finalize_response(drf_request, response, *args, **kwargs)
        self.response = finalized
        return finalized

    def idempotent_handle(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Replay the stored answer, or run the handler and store its answer.

        Keys are scoped per user, so an idempotent method needs an authenticated caller.
        """
        if not request.user.is_authenticated:
            raise NotAuthenticated
        with idempotency_slot(
            user=cast(AbstractBaseUser, request.user),
            key=request.headers.get(HEADER),
            method=str(request.method),
            path=request.path,
            data=request.data,
        ) as slot:
            if slot.stored is not None:
                return self.idempotent_replay(slot.stored)
            with transaction.atomic():
                response = self.idempotent_run(request, *args, **kwargs)
                answer = AnswerContent.of(response)
                if status.is_success(response.status_code):
                    earlier = slot.fill(status_code=answer.status, body=answer.to_json())
                    if earlier is not None:  # another request with this key stored first
                        transaction.set_rollback(True)
                        return self.idempotent_replay(earlier)
                else:
                    transaction.set_rollback(True)  # no half-done writes behind an error
            if status.is_client_error(response.status_code):
                slot.fill(status_code=answer.status, body=answer.to_json())
            return response

    def idempotent_run(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The method's handler, its exceptions answered as DRF's dispatch answers them."""
        method = str(request.method).lower()
        handler = self.http_method_not_allowed
        if method in self.http_method_names:
            handler = getattr(self, method, self.http_method_not_allowed)
        try:
            response: Response = handler(request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the status decides what is stored
            response = self.handle_exception(exc)
        return response

    def idempotent_replay(self, stored: StoredAnswer) -> AppResponse:
        """The stored answer, marked as a replay."""
        return AnswerContent.from_json(stored.body).response(headers={REPLAY_HEADER: "true"})
