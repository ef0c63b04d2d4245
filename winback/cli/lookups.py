"""`winback customer`, `winback at-risk`, `winback segments`: the named lookups, printed through the
assistant's own tools (the same text, the same role checks and masking as in a conversation or the UI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, get_args

import typer

from winback.cli.common import JsonFlag, RoleOption, print_tool
from winback.data.lookups.at_risk import AtRiskSort
from winback.tools.names import ToolName

commands = typer.Typer()


@commands.command("customer")
def customer_command(
    customer_id: Annotated[str, typer.Argument(help="Customer id, e.g. C-1042.")],
    role: RoleOption = "cs_staff",
    as_json: JsonFlag = False,
) -> None:
    """One customer's card: activity, open tickets, recent reviews, churn score and drivers, offers."""
    print_tool(ToolName.CUSTOMER_PROFILE, {"customer_id": customer_id}, role, as_json)


@commands.command("at-risk")
def at_risk_command(
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
    band: Annotated[list[str] | None, typer.Option(help="Only these risk bands (repeat the option).")] = None,
    min_value: Annotated[float | None, typer.Option(help="Minimum lifetime value.")] = None,
    inactive_days: Annotated[int | None, typer.Option(help="No order for at least N days.")] = None,
    population: Annotated[str, typer.Option(help="active (default), lapsed (no order for a year) or all.")] = "active",
    sort: Annotated[str, typer.Option(help=", ".join(get_args(AtRiskSort)) + ".")] = "probability",
    limit: Annotated[int, typer.Option(help="How many customers.")] = 20,
    role: RoleOption = "cs_staff",
    as_json: JsonFlag = False,
) -> None:
    """Customers most likely to churn, from the latest scoring run, with their top driver."""
    args = {
        "segment": segment,
        "country": country,
        "risk_bands": band or None,
        "min_lifetime_value": min_value,
        "inactive_days": inactive_days,
        "population": population,
        "sort": sort,
        "limit": limit,
    }
    print_tool(ToolName.LIST_AT_RISK, args, role, as_json)


@commands.command("segments")
def segments_command(
    by: Annotated[
        str,
        typer.Option(
            help="segment, country, city, acquisition_channel, marketing_opt_in, signup_year, risk_band or all."
        ),
    ] = "segment",
    segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None,
    country: Annotated[str | None, typer.Option(help="Only this country.")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="Order metrics from this date (default: the 365 days to the scoring date)."
        ),
    ] = None,
    role: RoleOption = "cs_staff",
    as_json: JsonFlag = False,
) -> None:
    """Churn risk, revenue at risk, order value and late deliveries per group of customers."""
    args = {"by": by, "segment": segment, "country": country, "since": since.isoformat() if since else None}
    print_tool(ToolName.SEGMENTS, args, role, as_json)
