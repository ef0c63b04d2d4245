"""Named lookups: parameterised queries for the questions asked every day, with typed arguments the
agent (and the CLI) can call. No model-written SQL runs here."""

from winback.data.lookups.at_risk import AtRiskArgs, AtRiskList, AtRiskRow, at_risk_customers
from winback.data.lookups.common import MAX_ROWS, CustomerNotFound, InvalidLookup
from winback.data.lookups.feedback import FeedbackItem, TimelineEvent, customer_feedback, customer_timeline
from winback.data.lookups.offers import OfferHistory, OfferHistoryArgs, offer_history
from winback.data.lookups.profile import CustomerProfile, ProfileArgs, customer_profile
from winback.data.lookups.segments import SegmentArgs, SegmentReport, SegmentRow, segment_aggregates

__all__ = [
    "MAX_ROWS",
    "AtRiskArgs",
    "FeedbackItem",
    "TimelineEvent",
    "customer_feedback",
    "customer_timeline",
    "AtRiskList",
    "AtRiskRow",
    "CustomerNotFound",
    "CustomerProfile",
    "InvalidLookup",
    "OfferHistory",
    "OfferHistoryArgs",
    "ProfileArgs",
    "SegmentArgs",
    "SegmentReport",
    "SegmentRow",
    "at_risk_customers",
    "customer_profile",
    "offer_history",
    "segment_aggregates",
]
