"""The daily briefing: the e-mail arrives at a real SMTP server on 127.0.0.1 with the right counts (HTML with a
plain-text part and the chart as an image), once a day per subscriber; every figure is a tool's; the HTML
renders in chromium (screenshot in test-artifacts/)."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.jobs.test_alerts import LATEST, PREVIOUS, _push_orders_back
from tests.offers.smtp_server import smtp_server
from tests.ui.conftest import ARTIFACTS, CHROMIUM, FLAGS
from winback.config import Settings
from winback.data.db import make_engine
from winback.data.risk_bands import BAND_STARTS
from winback.jobs.briefing import BriefingError, compose, send_briefings, subscribe, unsubscribe
from winback.model.scoring import ChurnScorer, score_all
from winback.tools import Services


def _second_run(settings: Settings) -> int:
    """A second scoring run after some customers stopped buying; how many crossed into high risk."""
    engine = make_engine(settings=settings)
    with engine.connect() as connection:
        changed = [
            r[0]
            for r in connection.execute(
                text(
                    f"SELECT customer_id FROM churn_scores WHERE scored_at = {LATEST} AND lapsed = 0 "
                    "AND probability < 0.45 ORDER BY customer_id LIMIT 40"
                )
            )
        ]
    _push_orders_back(engine, changed, 200)
    score_all(engine, ChurnScorer.load(settings.data_dir))
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    f"SELECT COUNT(*) FROM churn_scores now JOIN churn_scores before ON before.customer_id = "
                    f"now.customer_id AND before.scored_at = {PREVIOUS} WHERE now.scored_at = {LATEST} AND "
                    "now.lapsed = 0 AND now.probability >= :t AND before.probability < :t"
                ),
                {"t": BAND_STARTS["high"]},
            ).scalar()
        )


def test_the_briefing_reaches_each_subscriber_once_with_the_right_counts(shop_settings: Settings) -> None:
    crossed = _second_run(shop_settings)
    assert crossed > 0
    engine = make_engine(settings=shop_settings)
    subscribe(engine, "maria", "manager", "maria@shop.example")
    subscribe(engine, "carol", "cs_staff", "carol@shop.example")
    with pytest.raises(BriefingError):
        subscribe(engine, "sam", "support_agent", "not-an-address")
    with smtp_server() as (url, recorder):
        settings = shop_settings.model_copy(update={"smtp_url": url, "smtp_starttls": "off"})
        services = Services(settings)
        report = send_briefings(services)
        assert report.sent == 2 and not report.failed, report.summary()
        assert send_briefings(services).sent == 0  # once a day each
    by_recipient = {r.recipients[0]: r.message for r in recorder.messages}
    assert set(by_recipient) == {"maria@shop.example", "carol@shop.example"}
    message = by_recipient["maria@shop.example"]
    assert "daily briefing for managers" in message["Subject"]
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"{crossed:,} customers crossed into high risk" in plain
    assert f"{crossed:,} customers crossed into high risk" in html
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1 and 'src="cid:chart"' in html and images[0]["Content-ID"] == "<chart>"
    assert "daily briefing for customer success" in by_recipient["carol@shop.example"]["Subject"]

    page = compose(services, "cs_staff", "carol")
    assert page.grounding.ok, page.grounding  # every figure on the page came from a tool
    assert page.figures["crossed"] == crossed
    assert unsubscribe(engine, "carol") and not unsubscribe(engine, "carol")

    # the e-mail's HTML as a mail client shows it, in chromium (the image served from a file)
    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "chart.png").write_bytes(images[0].get_content())
        page_file = Path(folder) / "briefing.html"
        page_file.write_text(html.replace("cid:chart", "chart.png"), encoding="utf-8")
        shot = ARTIFACTS / "briefing-email.png"
        shot.unlink(missing_ok=True)
        subprocess.run(
            [
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={folder}/profile",
                "--window-size=900,1600",
                f"--screenshot={shot}",
                page_file.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    assert shot.stat().st_size > 20_000  # a page with tables and a chart, not a blank one


def test_without_a_channel_nothing_is_claimed(shop_settings: Settings) -> None:
    engine = make_engine(settings=shop_settings)
    subscribe(engine, "maria", "manager", "maria@shop.example")
    report = send_briefings(Services(shop_settings))
    assert report.sent == 0 and "no channel" in report.summary()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM briefing_sends")).scalar() == 0


def test_a_mail_server_that_is_down_leaves_the_day_unsent(shop_settings: Settings) -> None:
    engine = make_engine(settings=shop_settings)
    subscribe(engine, "maria", "manager", "maria@shop.example")
    settings = shop_settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:9", "smtp_starttls": "off"})
    report = send_briefings(Services(settings))
    assert report.sent == 0 and report.failed
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM briefing_sends")).scalar() == 0  # retried next run


@pytest.mark.parametrize("label", ["save $5$ now", "broken $x^$ formula", "two\nlines\r\nlabel", "$"])
def test_a_driver_label_is_drawn_as_plain_text(label: str) -> None:
    """Labels come from data: matplotlib would read `$…$` as a formula and stop the briefing on a broken one."""
    from winback.jobs.briefing import _chart

    png = _chart({"rows": [[label, 3], ["late delivery", 2]]})
    assert png is not None and png.startswith(b"\x89PNG")
