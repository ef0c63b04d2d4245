"""The campaign loop on SQLite and PostgreSQL alike: create, approve, send, advance, report, truth."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select, update

from winback.config import Settings
from winback.data.demo.advance import advance_demo
from winback.data.demo.campaign_truth import expected_lift
from winback.data.demo.seed import seed_demo
from winback.data.lookups.common import reference_date
from winback.data.schema import Customer
from winback.data.scores import ScoreRecord, write_scores
from winback.offers.campaigns import CohortArgs, approve_campaign, create_campaign
from winback.offers.channels import OutboxChannel
from winback.offers.drafting import OfferDrafter
from winback.offers.outcomes import campaign_report
from winback.offers.policy import load_policy
from winback.offers.sending import send_campaign


def test_the_loop_runs_the_same_on_both_databases(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=engine.url.render_as_string(hide_password=False))
    seed_demo(engine, customers=600, seed=3)
    with engine.connect() as connection:
        ids = sorted(connection.scalars(select(Customer.customer_id).where(Customer.closed_at.is_(None))))
        as_of = reference_date(connection)
    driver = {"feature": "recency_days", "contribution": 0.2, "text": "quiet"}
    write_scores(engine, [ScoreRecord(c, 0.9, "critical", [driver]) for c in ids], "m", as_of, as_of)
    with engine.begin() as connection:
        connection.execute(update(Customer).values(marketing_opt_in=True))
    policy = load_policy(tmp_path)
    created = create_campaign(
        engine, policy, OfferDrafter(engine, settings, None, policy), "both", CohortArgs(top=200), 0.25, 5, actor="d"
    )
    assert created.arms == {"treatment": 150, "holdout": 50}
    assert approve_campaign(engine, policy, "both", "m", "manager").approved == created.drafts.drafted > 0
    sent = send_campaign(engine, settings, policy, "both", OutboxChannel(tmp_path / "out"))
    assert sent.sent == created.drafts.drafted
    advance = advance_demo(engine, 60)
    assert advance.rows["orders"] > 0
    report = campaign_report(engine, "both").as_dict()
    assert report["window_closed"] and report["arms"]["treatment"]["members"] == 150
    assert isinstance(report["lift"], float) and 0 <= expected_lift(engine, "both")["sent"] == sent.sent
