"""Pages for alerts: "My alerts", the Watch buttons' targets, and one-click unsubscribe.

Each view parses the request, calls a service, and renders or redirects. Every object is
looked up among the signed-in person's own: someone else's watch or channel is a 404.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from tracker import services
from tracker.models import Channel, Delivery, Party, Watch, Withdrawal
from tracker.services import alerts

LOG_SIZE = 50


class WatchForm(forms.Form):
    kind = forms.ChoiceField(choices=Watch.Kind.choices)
    withdrawal = forms.IntegerField(required=False, min_value=1)
    party = forms.CharField(required=False, max_length=40)
    query = forms.CharField(required=False, max_length=1000)
    next = forms.CharField(required=False, max_length=2000)


class LeadDaysField(forms.CharField):
    """ "7, 1" → [7, 1]."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return [int(part) for part in value.replace(",", " ").split()]
        except ValueError:
            raise forms.ValidationError("Whole numbers of days, e.g. 7, 1.") from None


class WatchChangeForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("pause", "resume", "delete", "days")])
    lead_days = LeadDaysField(required=False, max_length=100)


class WebhookForm(forms.Form):
    url = forms.CharField(max_length=2000, label="Webhook URL")


class ChannelChangeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("pause", "resume", "delete", "test", "digest_on", "digest_off")]
    )


def next_url(request: HttpRequest, candidate: str, default: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@login_required
@require_safe
def alerts_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    watches = list(
        Watch.objects.filter(user=user).select_related(
            "withdrawal__party", "withdrawal__host", "party"
        )
    )
    channels = list(Channel.objects.filter(user=user))
    deliveries = list(
        Delivery.objects.filter(channel__user=user)
        .select_related("event", "channel")
        .order_by("-created_at", "-id")[:LOG_SIZE]
    )
    for delivery in deliveries:
        delivery.title = alerts.event_title(delivery.event)
    return render(
        request,
        "tracker/alerts/alerts.html",
        {
            "watches": watches,
            "channels": channels,
            "deliveries": deliveries,
            "webhook_form": WebhookForm(),
            "has_email": bool(user.email),
        },
    )


@login_required
@require_POST
def watch_add(request: HttpRequest) -> HttpResponse:
    form = WatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That cannot be watched: the form was incomplete.")
        return redirect("tracker:alerts")
    data = form.cleaned_data
    back = next_url(request, data["next"], "tracker:alerts")
    withdrawal = party = None
    if data["withdrawal"]:
        withdrawal = Withdrawal.objects.filter(pk=data["withdrawal"]).first()
    if data["party"]:
        party = Party.objects.filter(code=data["party"].upper()).first()
    try:
        watch, created = services.watch_create(
            user=request.user,
            kind=data["kind"],
            withdrawal=withdrawal,
            party=party,
            query=data["query"],
        )
    except services.AlertError as exc:
        messages.error(request, f"That cannot be watched: {exc}.")
        return redirect(back)
    if created:
        messages.success(request, f"Watching — {watch.label}. Manage it under My alerts.")
    if not request.user.email:
        messages.warning(request, "Your account has no email address: add a webhook to hear.")
    return redirect(back)


@login_required
@require_POST
def watch_change(request: HttpRequest, pk: int) -> HttpResponse:
    watch = get_object_or_404(Watch, pk=pk, user=request.user)
    form = WatchChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("tracker:alerts")
    action = form.cleaned_data["action"]
    try:
        if action == "delete":
            services.watch_delete(watch=watch)
            messages.success(request, f"Stopped watching — {watch.label}.")
        elif action == "days":
            services.watch_update(watch=watch, lead_days=form.cleaned_data["lead_days"])
            messages.success(request, "Notice days saved.")
        else:
            services.watch_update(watch=watch, paused=action == "pause")
    except services.AlertError as exc:
        messages.error(request, str(exc))
    return redirect("tracker:alerts")


@login_required
@require_POST
def channel_add(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            url = form.cleaned_data["url"]
            channel = services.channel_webhook_create(user=request.user, url=url)
        except services.AlertError as exc:
            messages.error(request, f"That webhook cannot be added: {exc}.")
        else:
            messages.success(request, f"Webhook added. Its signing secret: {channel.secret}")
    else:
        messages.error(request, "Give the webhook's URL.")
    return redirect("tracker:alerts")


@login_required
@require_POST
def channel_change(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk, user=request.user)
    form = ChannelChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown action.")
        return redirect("tracker:alerts")
    action = form.cleaned_data["action"]
    try:
        if action == "delete":
            channel.delete()
            messages.success(request, f"Removed {channel.address}.")
        elif action == "test":
            services.channel_send_test(channel=channel)
            messages.success(request, f"A test is on its way to {channel.address}.")
        elif action in ("digest_on", "digest_off"):
            services.channel_update(channel=channel, digest=action == "digest_on")
        else:
            services.channel_update(channel=channel, active=action == "resume")
    except services.AlertError as exc:
        messages.error(request, str(exc))
    return redirect("tracker:alerts")


# Mail clients POST here for RFC 8058 one-click unsubscribe, without a CSRF token; the
# signed token in the URL is the authorisation.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    channel = alerts.channel_for_unsubscribe_token(token)
    if channel is None:
        return render(request, "tracker/alerts/unsubscribe.html", {"invalid": True}, status=404)
    done = request.method == "POST"
    if done:
        services.channel_unsubscribe(channel=channel)
    return render(request, "tracker/alerts/unsubscribe.html", {"channel": channel, "done": done})
