"""The team settings page (`/accounts/team/`, mounted in the `accounts` namespace by the
root URLconf where it was first published): the team's time zone, set by an admin with a
fresh two-factor code.

Parses the form, calls `trading.ledger.zones.team_zone_set` (the setting, and the new zone's
PnL checkpoints built in the background), renders; each field's message is the form's or
the service's own when the zone or the code is refused, and the typed zone is kept.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import client_ip, signed_in, two_factor_redirect
from accounts.errors import TEAM_SETTINGS_HINT, Refusal, ServiceError
from accounts.forms import TeamSettingsForm
from accounts.team import TeamSettingError, can_set_team, team_time_zone
from trading.ledger.zones import team_zone_set


@signed_in
@require_http_methods(["GET", "POST"])
def team_settings(request: HttpRequest) -> HttpResponse:
    if not can_set_team(request.user):
        raise Refusal("Only an admin may change the team's settings.", hint=TEAM_SETTINGS_HINT)
    two_factor = two_factor_redirect(request)
    if two_factor is not None:
        return two_factor
    form = TeamSettingsForm(request.POST or None, initial={"time_zone": team_time_zone()})
    if request.method == "POST" and form.is_valid():
        try:
            kept = team_zone_set(
                actor=request.user,
                zone=form.cleaned_data["time_zone"],
                otp_code=form.cleaned_data["otp_code"],
                ip=client_ip(request),
            )
        except TeamSettingError as exc:
            form.add_error("time_zone", str(exc))
        except ServiceError as exc:  # the two-factor code: refused, or wait after wrong ones
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"The team's days now run in {kept}.")
            return redirect("accounts:team_settings")
    return render(request, "accounts/team_settings.html", {"form": form})
