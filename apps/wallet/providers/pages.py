"""The fake provider's checkout page: what the payer sees at the provider (HTML, no API)."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from apps.wallet.providers.fake import fake_payment_decide, fake_payment_get

TEMPLATE = "wallet/fake_checkout.html"


class FakeCheckoutView(View):
    """GET shows the amount with Pay and Decline; POST `decision=pay|decline` decides once."""

    def get(self, request: HttpRequest, reference: str) -> HttpResponse:
        """The checkout page of an open (or already decided) payment."""
        payment = fake_payment_get(reference=reference)
        if payment is None:
            raise Http404
        return render(request, TEMPLATE, {"payment": payment})

    def post(self, request: HttpRequest, reference: str) -> HttpResponse:
        """Pay or decline; the page then shows the outcome."""
        decision: Any = request.POST.get("decision")
        if decision not in ("pay", "decline"):
            return HttpResponse("decision must be pay or decline", status=400)
        payment = fake_payment_decide(reference=reference, paid=decision == "pay")
        if payment is None:
            raise Http404
        return render(request, TEMPLATE, {"payment": payment, "decided": True})
