"""Alerts after a scoring run: seed → score → change some customers' data → score, and a rule fires exactly for
the customers who crossed, once (re-running adds nothing); the other kinds of rule, the role that acts on
an alert, and notifications through a channel."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from winback.config import Settings
from winback.data.db import make_engine
from winback.jobs.alerts import (
    AlertsError,
    MetricJump,
    ReviewWithOpenOffer,
    RiskCrossed,
    act_on,
    evaluate,
    list_alerts,
    load_rules,
)
from winback.model.scoring import ChurnScorer, score_all

LATEST = "(SELECT MAX(scored_at) FROM churn_scores)"
PREVIOUS = f"(SELECT MAX(scored_at) FROM churn_scores WHERE scored_at < {LATEST})"


def _push_orders_back(engine: Engine, customers: list[str], days: int) -> None:
    """Their recent orders happened `days` earlier (as if they had stopped buying): their risk rises."""
    shift = f"'-{days} days'"
    with engine.begin() as connection:
        for customer in customers:
            connection.execute(
                text(
                    f"UPDATE orders SET ordered_at = datetime(ordered_at, {shift}), "
                    f"delivered_at = datetime(delivered_at, {shift}), "
                    f"promised_delivery_at = datetime(promised_delivery_at, {shift}), "
                    f"returned_at = datetime(returned_at, {shift}) "
                    "WHERE customer_id = :c AND ordered_at < (SELECT datetime(MAX(ordered_at), '-2 days') FROM orders)"
                ),
                {"c": customer},
            )


def _crossed(engine: Engine, threshold: float) -> set[str]:
    """Who crossed the threshold between the two latest runs, read straight from churn_scores."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT now.customer_id FROM churn_scores now JOIN churn_scores before "
                f"ON before.customer_id = now.customer_id AND before.scored_at = {PREVIOUS} "
                f"WHERE now.scored_at = {LATEST} AND now.lapsed = 0 AND now.probability >= :t "
                "AND before.probability < :t"
            ),
            {"t": threshold},
        )
        return {r[0] for r in rows}


def test_a_rule_fires_once_for_exactly_the_customers_who_crossed(shop_settings: Settings) -> None:
    engine = make_engine(settings=shop_settings)
    with engine.connect() as connection:
        changed = [
            r[0]
            for r in connection.execute(
                text(
                    f"SELECT customer_id FROM churn_scores WHERE scored_at = {LATEST} AND lapsed = 0 "
                    "AND probability BETWEEN 0.2 AND 0.6 ORDER BY customer_id LIMIT 40"
                )
            )
        ]
    rule = RiskCrossed(name="crossed", kind="risk_crossed", threshold=0.7, min_value=None, role="cs_staff")
    assert evaluate(engine, shop_settings, [rule]).total == 0  # one run: nothing to compare with yet
    _push_orders_back(engine, changed, 200)
    score_all(engine, ChurnScorer.load(shop_settings.data_dir))
    crossed = _crossed(engine, 0.7)
    assert crossed and crossed <= set(changed)  # only customers whose data changed can have crossed

    first = evaluate(engine, shop_settings, [rule])
    alerts = list_alerts(engine, "cs_staff")
    assert {a.subject for a in alerts} == crossed and len(alerts) == len(crossed) == first.total
    assert all(a.details["probability"] >= 0.7 > a.details["probability_before"] for a in alerts)
    again = evaluate(engine, shop_settings, [rule])  # the same run evaluated again: nothing new
    assert again.total == 0 and again.repeated["crossed"] == len(crossed)
    assert len(list_alerts(engine, "cs_staff")) == len(crossed)

    valuable = RiskCrossed(name="valuable", kind="risk_crossed", threshold=0.7, min_value=10**9, role="cs_staff")
    assert evaluate(engine, shop_settings, [valuable]).total == 0  # nobody is worth a billion


def test_acknowledge_and_snooze_belong_to_the_alerts_role(shop_settings: Settings) -> None:
    engine = make_engine(settings=shop_settings)
    with engine.begin() as connection:
        customer = connection.execute(text("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1")).scalar()
        connection.execute(
            text(
                "INSERT INTO offers (offer_id, customer_id, created_at, created_by, offer_type, value, channel, subject, "
                "message, status) VALUES ('OF-T-1', :c, (SELECT MAX(ordered_at) FROM orders), 'sam', 'percent_discount', "
                "10, 'email', 'We miss you', 'Come back', 'draft')"
            ),
            {"c": customer},
        )
        connection.execute(
            text(
                "INSERT INTO reviews (review_id, customer_id, rating, title, body, created_at) VALUES "
                "('R-T-1', :c, 1, 'Awful', 'Never again.', datetime((SELECT MAX(ordered_at) FROM orders), '+1 hour'))"
            ),
            {"c": customer},
        )
    rule = ReviewWithOpenOffer(name="one_star", kind="review_with_open_offer", max_rating=1, role="support_agent")
    assert evaluate(engine, shop_settings, [rule]).total == 1
    [alert] = list_alerts(engine, "support_agent")
    assert alert.customer_id == customer and "R-T-1" in alert.title and "OF-T-1" in alert.title
    assert list_alerts(engine, "cs_staff") == []  # another role's alert is not on their screen
    with pytest.raises(AlertsError, match="may not act"):
        act_on(engine, alert.alert_id, "carol", "cs_staff", "acknowledge")
    assert act_on(engine, alert.alert_id, "sam", "support_agent", "snooze", hours=2) == "snoozed"
    assert list_alerts(engine, "support_agent") == []
    assert [a.status for a in list_alerts(engine, "support_agent", include_done=True)] == ["snoozed"]
    assert act_on(engine, alert.alert_id, "sam", "support_agent", "acknowledge") == "acknowledged"
    assert list_alerts(engine, "admin", include_done=True)[0].acted_by == "sam"
    with pytest.raises(AlertsError, match="no alert"):
        act_on(engine, "AL-nope", "sam", "support_agent", "acknowledge")


def test_a_measure_that_doubled_week_on_week_raises_an_alert_for_its_group(shop_settings: Settings) -> None:
    engine = make_engine(settings=shop_settings)
    delivered = "delivered_at IS NOT NULL AND promised_delivery_at IS NOT NULL"
    week = "(SELECT date(MAX(ordered_at), '-6 days') FROM orders)"
    week_before = "(SELECT date(MAX(ordered_at), '-13 days') FROM orders)"
    with engine.begin() as connection:  # a segment's deliveries: on time the week before, late this week
        segment = connection.execute(
            text(
                f"SELECT c.segment FROM orders o JOIN customers c ON c.customer_id = o.customer_id WHERE {delivered} "
                f"AND o.delivered_at >= {week_before} GROUP BY c.segment ORDER BY COUNT(*) DESC LIMIT 1"
            )
        ).scalar()
        of_segment = f"customer_id IN (SELECT customer_id FROM customers WHERE segment = '{segment}')"
        connection.execute(
            text(
                f"UPDATE orders SET delivered_at = datetime(promised_delivery_at, '-1 hour') WHERE {delivered} AND "
                f"delivered_at >= {week_before} AND delivered_at < {week} AND {of_segment}"
            )
        )
        connection.execute(
            text(
                f"UPDATE orders SET delivered_at = datetime(promised_delivery_at, '+3 days') WHERE {delivered} AND "
                f"delivered_at >= {week} AND {of_segment}"
            )
        )
    rule = MetricJump(
        name="late",
        kind="metric_jump",
        measure="late_delivery_share",
        group_by="segment",
        days=7,
        ratio=1.5,
        min_rows=1,
        role="manager",
    )
    evaluation = evaluate(engine, shop_settings, [rule])
    subjects = {a.subject for a in list_alerts(engine, "manager")}
    assert f"segment={segment}" in subjects and evaluation.total == len(subjects)


def test_notifying_rules_go_out_once_through_the_channel(shop_settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(settings=shop_settings)
    outbox = tmp_path / "outbox"
    settings = shop_settings.model_copy(update={"notify_channel": f"outbox:{outbox}"})
    with engine.begin() as connection:
        connection.execute(text("UPDATE reviews SET rating = 1 WHERE review_id = (SELECT MIN(review_id) FROM reviews)"))
        customer, when = connection.execute(
            text("SELECT customer_id, created_at FROM reviews WHERE review_id = (SELECT MIN(review_id) FROM reviews)")
        ).one()
        connection.execute(
            text(
                "INSERT INTO offers (offer_id, customer_id, created_at, created_by, offer_type, value, channel, subject, "
                "message, status) VALUES ('OF-T-2', :c, datetime(:w, '-1 day'), 'sam', 'percent_discount', 10, 'email', "
                "'s', 'm', 'sent')"
            ),
            {"c": customer, "w": when},
        )
    rule = ReviewWithOpenOffer(
        name="one_star",
        kind="review_with_open_offer",
        role="support_agent",
        notify=True,
        notify_to=["retention-lead@shop.example"],
    )
    first = evaluate(engine, settings, [rule])
    assert first.total == 1 and first.notified == 1
    [eml] = list(outbox.glob("*.eml"))
    body = eml.read_text()
    assert "retention-lead@shop.example" in body and "OF-T-2" in body and "[winback alert]" in body
    assert evaluate(engine, settings, [rule]).notified == 0  # sent once
    assert len(list(outbox.glob("*.eml"))) == 1


def test_the_built_in_rules_load_and_a_bad_file_is_one_line(tmp_path: Path) -> None:
    rules = load_rules(Settings(data_dir=tmp_path))
    assert {r.kind for r in rules} == {"risk_crossed", "review_with_open_offer", "metric_jump"}
    bad = tmp_path / "alerts.toml"
    bad.write_text(
        '[[rules]]\nname = "x"\nkind = "metric_jump"\nmeasure = "no_such"\ngroup_by = "segment"\nrole = "manager"\n'
    )
    with pytest.raises(AlertsError, match="alerts file .*no_such") as raised:
        load_rules(Settings(data_dir=tmp_path, alerts_file=bad))
    assert "\n" not in str(raised.value)
    bad.write_text('[[rules]]\nname = "x"\nkind = "risk_crossed"\nthreshold = 2\nrole = "manager"\n')
    with pytest.raises(AlertsError, match="threshold"):
        load_rules(Settings(data_dir=tmp_path, alerts_file=bad))
    bad.write_bytes('[[rules]]\nname = "Prämie"\n'.encode("latin-1"))  # saved by a Windows editor
    with pytest.raises(
        AlertsError, match="not saved as UTF-8 .the first unreadable character is on line 2, column 11."
    ) as raised:
        load_rules(Settings(data_dir=tmp_path, alerts_file=bad))
    assert "\n" not in str(raised.value)
