() => {
  // Tables in the chat: sort by a column (click its header), filter rows (the box above), and open a
  // customer's card by clicking their id. The table stays where the chat put it; only rows move.
  // the Customer tab is drawn when first shown: show it, wait for its id box, fill it and press Open
  const openCard = (customerId) => {
    const tab = Array.from(document.querySelectorAll("button[role=tab]")).find((b) => b.innerText.trim() === "Customer");
    if (tab) tab.click();
    let tries = 0;
    const fill = () => {
      const box = document.querySelector("#customer-id textarea, #customer-id input");
      const open = document.querySelector("#customer-open");
      if (!box || !open) {
        if (tries++ < 40) setTimeout(fill, 50);
        return;
      }
      box.value = customerId;
      box.dispatchEvent(new Event("input", { bubbles: true }));
      setTimeout(() => open.click(), 50);
    };
    fill();
  };
  const enhance = (table) => {
    if (table.dataset.wbTable) return;
    table.dataset.wbTable = "1";
    table.classList.add("wb-table");
    const body = table.tBodies[0];
    const heads = Array.from(table.querySelectorAll("thead th"));
    if (!body || !heads.length) return;
    const before = table.previousElementSibling;
    const filter = before && before.classList.contains("wb-table-filter") ? before : document.createElement("input");
    filter.type = "search";
    filter.placeholder = "Filter rows";
    filter.className = "wb-table-filter";
    if (filter !== before) table.parentNode.insertBefore(filter, table);
    filter.addEventListener("input", () => {
      const wanted = filter.value.trim().toLowerCase();
      for (const row of body.rows) row.style.display = row.innerText.toLowerCase().includes(wanted) ? "" : "none";
    });
    const key = (row, i) => {
      const text = (row.cells[i] ? row.cells[i].innerText : "").trim();
      const number = parseFloat(text.replace(/[,%\s€$£]/g, ""));
      return /^[-+]?[\d,.]+\s*%?$/.test(text) && !Number.isNaN(number) ? number : text.toLowerCase();
    };
    heads.forEach((th, i) => {
      th.classList.add("wb-sortable");
      th.title = "Sort by " + th.innerText.trim();
      th.addEventListener("click", () => {
        const direction = th.dataset.sort === "asc" ? "desc" : "asc";
        heads.forEach((h) => delete h.dataset.sort);
        th.dataset.sort = direction;
        const rows = Array.from(body.rows);
        rows.sort((a, b) => {
          const x = key(a, i), y = key(b, i);
          const order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === "number" ? -1 : 1;
          return direction === "asc" ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      });
    });
    const idColumn = heads.findIndex((h) => h.innerText.trim().toLowerCase() === "customer");
    if (idColumn < 0) return;
    for (const row of body.rows) {
      const cell = row.cells[idColumn];
      if (!cell || !cell.innerText.trim()) continue;
      cell.classList.add("wb-customer-id");
      cell.title = "Open the customer card";
      cell.addEventListener("click", () => openCard(cell.innerText.trim()));
    }
  };
  const scan = () => {
    // a message the chat drew again leaves its old filter box behind: drop boxes that lost their table
    document.querySelectorAll(".wb-table-filter").forEach((box) => {
      const next = box.nextElementSibling;
      if (!next || next.tagName !== "TABLE") box.remove();
    });
    document.querySelectorAll("#chatbot table").forEach(enhance);
  };
  new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  scan();
}
