"""One message from one record: what cannot become a safe e-mail is refused with one line (the send records
it as that message's failure), and no stored id can name a file outside the outbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from winback.offers.channels import OutboxChannel, SendFailed
from winback.offers.messages import MessageError, OutgoingOffer, build_message

FROM = "Shop <shop@example.com>"


def _offer(**changes: str) -> OutgoingOffer:
    fields = {"offer_id": "OF-1", "customer_id": "C-1", "name": "Ann Lee", "email": "ann@example.com"}
    fields |= {"subject": "A thank-you for you, Ann", "message": "Hello Ann,\n\nThank you.\n"}
    fields |= changes
    return OutgoingOffer(**fields, campaign_id="oct", redeem_code=None, valid_until=None, offer_type="none")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"name": "Ann\r\nBcc: x@evil.example"}, "customer C-1: the name contains a hidden line break (U+000D)"),
        ({"subject": "Hi\nBcc: x@evil.example"}, "the offer's subject contains a hidden line break (U+000A)"),
        ({"subject": "Hi\u2028there"}, "the offer's subject contains a hidden line break (U+2028)"),
        ({"message": "Hello\x00Ann"}, "the offer's message contains a hidden control character (U+0000)"),
        ({"email": "ann@exa mple.com"}, "customer C-1: not a valid e-mail address (the part after @ is not"),
        (
            {"email": "a@b.example, c@d.example"},
            "customer C-1: not a valid e-mail address (expected one address, like name@example.com)",
        ),
        (
            {"email": "ann@example.com\r\nBcc: x@evil.example"},
            "customer C-1: the e-mail address contains a hidden line",
        ),
    ],
)
def test_a_record_that_cannot_be_a_safe_message_is_refused_in_one_line(changes: dict[str, str], reason: str) -> None:
    with pytest.raises(MessageError) as caught:
        build_message(_offer(**changes), FROM, None)
    assert str(caught.value).startswith(reason) and "\n" not in str(caught.value)
    assert "evil" not in str(caught.value) and "Ann" not in str(caught.value)  # no personal value in the reason


def test_a_good_record_keeps_its_line_breaks_in_the_body() -> None:
    message = build_message(_offer(), FROM, None)
    assert message["To"] == "Ann Lee <ann@example.com>" and message.get_content() == "Hello Ann,\n\nThank you.\n"


@pytest.mark.parametrize("offer_id", ["../../escaped", "/etc/escaped", ".hidden", "a/b", "OF 1"])
def test_no_stored_id_names_a_file_outside_the_outbox(tmp_path: Path, offer_id: str) -> None:
    outbox = OutboxChannel(tmp_path / "outbox")
    payload = {"offer_id": offer_id, "message_id": "<x@example.com>", "to": "ann@example.com", "subject": "Hi"}
    with pytest.raises(SendFailed, match="cannot name a file") as caught:
        outbox.send(build_message(_offer(), FROM, None), payload)
    assert not caught.value.retry
    assert [p.name for p in tmp_path.rglob("*")] == ["outbox"]
