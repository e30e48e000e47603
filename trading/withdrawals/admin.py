"""Django admin for the withdrawal settings: read-only lists (every change, a removal
included, needs a fresh two-factor code, so it is made on the dashboard's own pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import AdminOfSubaccountMixin
from trading.withdrawals.models import WithdrawalAddress, WithdrawalLimit, WithdrawalPolicy


@admin.register(WithdrawalAddress)
class WithdrawalAddressAdmin(AdminOfSubaccountMixin, admin.ModelAdmin):
    list_display = [
        "subaccount",
        "blockchain",
        "address",
        "label",
        "confirmed_2fa_exempt",
        "added_by",
        "approved_by",
    ]
    readonly_fields = ["added_by", "approved_by", "confirmed_2fa_exempt"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # changes need a fresh two-factor code: use the dashboard's page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the page's Remove also cancels the withdrawals waiting for the address


@admin.register(WithdrawalPolicy)
class WithdrawalPolicyAdmin(AdminOfSubaccountMixin, admin.ModelAdmin):
    list_display = ["subaccount", "second_admin_required", "updated_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleting a limit lifts it: a money setting like changing it


@admin.register(WithdrawalLimit)
class WithdrawalLimitAdmin(WithdrawalPolicyAdmin):
    list_display = ["subaccount", "asset", "daily_limit"]
