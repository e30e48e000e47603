"""The trading app's Django admin: each package registers its models in its own module."""

from trading.withdrawals import admin as withdrawals_admin  # noqa: F401
