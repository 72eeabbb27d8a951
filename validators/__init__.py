"""Form checks: each module is one rule that reads typed rows and yields findings.

The list is explicit so that the order of findings and the set of rules are plain to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kam.checks import CheckContext
from kam.findings import Finding
from validators import (
    amount_range,
    branch_mismatch,
    completeness,
    date_future,
    date_order,
    duplicate_key,
    email,
    enum,
    formula_in_data,
    overdue_days,
    phone,
    prefill_changed,
    required,
    template_version,
    tier_check,
    type_,
    unknown_customer,
    uscc,
)

Check = Callable[[CheckContext], Iterator[Finding]]

CHECKS: tuple[Check, ...] = (
    template_version.check,
    required.check,
    type_.check,
    enum.check,
    uscc.check,
    phone.check,
    email.check,
    date_future.check,
    date_order.check,
    amount_range.check,
    duplicate_key.check,
    unknown_customer.check,
    overdue_days.check,
    branch_mismatch.check,
    completeness.check,
    formula_in_data.check,
    tier_check.check,
    prefill_changed.check,
)
