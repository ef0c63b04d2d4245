"""The grounding check flags figures and ids no tool returned, and accepts honest rounding."""

from __future__ import annotations

from winback.assistant.grounding import check_grounding

EVIDENCE = [
    "| 1 | C-5469 | 99.9% | 2,346.20 | 361 |\nscored 2026-11-23, model 20261123-212948-e0a1be",
    '{"probability": 0.4103, "orders": 12}',
]


def test_figures_from_tools_pass() -> None:
    answer = "C-5469 leads at 99.9% (lifetime value 2,346.20, about 2,346; quiet for 361 days; scored 2026-11-23)."
    assert check_grounding(answer, EVIDENCE).ok
    assert check_grounding("Her probability is 41.03%, with 12 orders.", EVIDENCE).ok  # 0.4103 as a percentage
    assert check_grounding("Show the top 10.", EVIDENCE, question="who are the top 10?").ok


def test_invented_figures_and_ids_are_flagged() -> None:
    report = check_grounding("C-5469 is at 87% and C-1 owes 1,200.00 since 2026-01-01.", EVIDENCE)
    assert report.unsupported_numbers == ["87%", "1,200.00"]
    assert report.unsupported_ids == ["2026-01-01", "C-1"]
    assert not check_grounding("Offer 90% off.", EVIDENCE).ok
