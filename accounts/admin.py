"""Django admin for staff. The sealed secret is never displayed; the audit trail is read-only.

Staff who are not superusers see only subaccounts they admin (and what hangs off them).
Nobody is made an admin here: that takes a fresh two-factor code (`membership_set`), which
the subaccount's Members page asks for.
The whole admin site needs a session verified with two-factor (django-otp's OTPAdminSite):
staff sign in on the dashboard with their code, or give it on the admin's own sign-in form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django_otp.admin import OTPAdminSite

from accounts import crypto
from accounts.audit import audit_record
from accounts.decorators import client_ip
from accounts.models import (
    AuditEvent,
    LowBalanceThreshold,
    Membership,
    Role,
    Subaccount,
)
from accounts.permissions import subaccounts_visible_to

admin.site.__class__ = OTPAdminSite


class AdminOfSubaccountMixin:
    """Limits rows to subaccounts the staff member admins (superusers see all)."""

    subaccount_path = "subaccount"

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)  # type: ignore[misc]
        if request.user.is_superuser:
            return queryset
        visible = subaccounts_visible_to(request.user, min_role=Role.ADMIN)
        if self.subaccount_path == "":
            return queryset.filter(pk__in=visible.values("pk"))
        return queryset.filter(**{f"{self.subaccount_path}__in": visible.values("pk")})


class AuditedAdminMixin:
    """Every change made through the admin leaves an audit event, like the dashboard's."""

    def _audit(self, request: HttpRequest, obj: Any, verb: str) -> None:
        subaccount = obj if isinstance(obj, Subaccount) else getattr(obj, "subaccount", None)
        audit_record(
            actor=request.user,
            action=f"admin_{obj._meta.model_name}_{verb}",
            subaccount=subaccount if subaccount and subaccount.pk else None,
            parameters={"object": str(obj)},
            ip=client_ip(request),
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        self._audit(request, obj, "change" if change else "add")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._audit(request, obj, "delete")
        super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self._audit(request, obj, "delete")
        super().delete_queryset(request, queryset)  # type: ignore[misc]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            self._audit(request, obj, "delete")
            obj.delete()
        for obj in instances:
            verb = "add" if obj.pk is None else "change"
            obj.save()
            self._audit(request, obj, verb)
        formset.save_m2m()

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "subaccount" and not request.user.is_superuser:
            kwargs["queryset"] = subaccounts_visible_to(request.user, min_role=Role.ADMIN)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


ADMIN_GRANT_REFUSED = (
    "Making someone an admin takes a fresh two-factor code: do it on the subaccount's "
    "Members page on the dashboard."
)


class MembershipAdminForm(forms.ModelForm):
    """A membership as the admin edits it: any role but admin, unless the row was that
    user's admin role on that subaccount already (admins approve addresses and withdrawals;
    granting that needs the fresh code only the dashboard's Members page asks for)."""

    class Meta:
        model = Membership
        fields = ["user", "subaccount", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("role") != Role.ADMIN:
            return data
        before = Membership.objects.filter(pk=self.instance.pk, role=Role.ADMIN).first()
        user = data.get("user")
        subaccount = data.get("subaccount")
        if (
            before is None
            or user is None
            or before.user_id != user.pk
            or subaccount is None
            or before.subaccount_id != subaccount.pk
        ):
            self.add_error("role", ADMIN_GRANT_REFUSED)
        return data


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipAdminForm
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Subaccount)
class SubaccountAdmin(AuditedAdminMixin, AdminOfSubaccountMixin, admin.ModelAdmin):
    subaccount_path = ""
    list_display = ["name", "exchange_label", "api_public_key", "key_fingerprint", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "exchange_label", "api_public_key"]
    exclude = ["api_secret_sealed"]
    readonly_fields = ["api_public_key", "key_fingerprint", "created_at", "updated_at"]
    inlines = [MembershipInline]

    @admin.display(description="Key fingerprint")
    def key_fingerprint(self, obj: Subaccount) -> str:
        return crypto.public_key_fingerprint(obj.api_public_key) if obj.api_public_key else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are entered (and checked against the exchange) on the dashboard's own page.
        return False


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, AdminOfSubaccountMixin, admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "subaccount", "role"]
    list_filter = ["role", "subaccount"]
    search_fields = ["user__username", "subaccount__name"]


@admin.register(LowBalanceThreshold)
class LowBalanceThresholdAdmin(AuditedAdminMixin, AdminOfSubaccountMixin, admin.ModelAdmin):
    list_display = ["subaccount", "asset", "minimum"]


@admin.register(AuditEvent)
class AuditEventAdmin(AdminOfSubaccountMixin, admin.ModelAdmin):
    list_display = ["created_at", "actor_name", "action", "subaccount_name", "result", "ip_address"]
    list_filter = ["action", "result"]
    search_fields = ["actor_name", "action", "subaccount_name"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
