"""What the customer's problem is, in one word the templates and the prompt use: from the churn drivers
that push risk up, and from what they wrote (a ticket topic or a low review)."""

from __future__ import annotations

from typing import Any, Literal

Situation = Literal["late_delivery", "product_quality", "price", "support", "inactivity"]

DRIVER_SITUATIONS: dict[str, Situation] = {
    "late_share_365d": "late_delivery",
    "mean_delay_days_365d": "late_delivery",
    "late_of_last_4": "late_delivery",
    "overdue_parcels": "late_delivery",
    "unresolved_tickets": "support",
    "last_ticket_satisfaction": "support",
    "tickets_365d": "support",
    "mean_rating_365d": "product_quality",
    "min_rating_365d": "product_quality",
    "last_rating": "product_quality",
    "days_since_bad_review": "product_quality",
    "returns_365d": "product_quality",
    "discount_share_365d": "price",
    "aov_change": "price",
}
TOPIC_SITUATIONS: dict[str, Situation] = {
    "delivery_delay": "late_delivery",
    "damaged_item": "product_quality",
    "sizing": "product_quality",
    "refund": "support",
    "payment": "support",
    "account": "support",
    "app_bug": "support",
    "discount_code": "price",
}


def situation_of(drivers: list[dict[str, Any]], ticket_topics: list[str]) -> Situation:
    """The strongest driver that raises risk decides; an open ticket's topic when drivers say nothing."""
    for driver in sorted(drivers, key=lambda d: -float(d.get("contribution", 0))):
        if float(driver.get("contribution", 0)) <= 0:
            break
        found = DRIVER_SITUATIONS.get(str(driver.get("feature")))
        if found:
            return found
    for topic in ticket_topics:
        if topic in TOPIC_SITUATIONS:
            return TOPIC_SITUATIONS[topic]
    return "inactivity"
