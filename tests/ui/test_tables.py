"""Tables people can read, in a real browser at a laptop's width (1400 px): the at-risk answer in the chat is
a table narrowed to the persona's columns whose cells never wrap inside a word, sorted by a click on a
header, filtered by its box, and a click on an id opens the customer's card; the Results tab holds the
whole table with a column chooser. Screenshots land in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import ARTIFACTS
from tests.ui.test_browser import ask, sign_in, top_ids
from winback.roles import Role
from winback.ui.results import PERSONA_COLUMNS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# every word of every cell (and header) of the table: more than one line box means the word was broken
WORDS_BROKEN = """(table) => {
  const broken = [];
  for (const cell of table.querySelectorAll("th, td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g;
      let m;
      while ((m = re.exec(node.textContent)) !== null) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def column_texts(table: Any, index: int) -> list[str]:
    return [row.locator("td").nth(index).inner_text().strip() for row in table.locator("tbody tr").all()]


def test_the_at_risk_answer_is_a_readable_sortable_table(ui_server: tuple[str, Path], browser_page: Any) -> None:
    url, data_dir = ui_server
    page = browser_page
    sign_in(page, url, "carol")  # customer-success staff
    ask(page, "who are the 10 customers most likely to churn?", "#chatbot table.wb-table")
    table = page.locator("#chatbot table.wb-table").last
    headers = [h.inner_text().strip().rstrip(" ▲▼") for h in table.locator("thead th").all()]
    assert headers == PERSONA_COLUMNS[Role.CS_STAFF]  # the persona's columns, in order
    assert column_texts(table, 1) == top_ids(data_dir, 10)
    assert table.evaluate(WORDS_BROKEN) == []  # "Ger/man/y", "crit/ical" would be listed here
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-at-risk-table-1400px.png"), full_page=True)

    # sort by days since order (a click on its header), ascending then descending
    days = headers.index("days since order")
    table.locator("thead th").nth(days).click()
    ascending = [int(v) for v in column_texts(table, days)]
    assert ascending == sorted(ascending)
    table.locator("thead th").nth(days).click()
    descending = [int(v) for v in column_texts(table, days)]
    assert descending == sorted(ascending, reverse=True)

    # the filter box keeps the rows that mention what is typed
    country = column_texts(table, headers.index("country"))[0]
    page.locator("#chatbot .wb-table-filter").last.fill(country)
    visible = [r for r in table.locator("tbody tr").all() if r.is_visible()]
    assert visible and all(country in r.inner_text() for r in visible)
    page.locator("#chatbot .wb-table-filter").last.fill("")

    # a click on an id opens that customer's card
    first = column_texts(table, 1)[0]
    table.locator("td.wb-customer-id", has_text=first).first.click()
    page.wait_for_function(
        "(id) => document.querySelector('#customer-headline') && "
        "document.querySelector('#customer-headline').innerText.includes(id)",
        arg=first,
    )

    # the Results tab has the whole table, the persona's columns ticked
    page.get_by_role("tab", name="Results").click()
    chooser = page.locator("#results-columns")
    ticked = [c.get_attribute("value") or "" for c in chooser.locator("input[type=checkbox]:checked").all()]
    labels = [lab.inner_text().strip() for lab in chooser.locator("label").all()]
    assert "lifetime value" in labels and len(ticked) == len(PERSONA_COLUMNS[Role.CS_STAFF])
    page.screenshot(path=str(ARTIFACTS / "results-tab-1400px.png"), full_page=True)
