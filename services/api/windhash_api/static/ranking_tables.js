// windhash dashboard: sortable tables whose header cells name their row field (th[data-key], data-type) and
// whose cells may be links (to a farm's or a lead party's page). Headers sort by click, Enter or Space.
export class SortableTable {
  // cells(row) -> [[text or Node, className], ...], one per column; empty: the text when there are no rows.
  constructor(table, cells, empty, key = "rank") {
    this.table = table;
    this.cells = cells;
    this.empty = empty;
    this.rows = [];
    this.key = key;
    this.ascending = true;
    for (const th of table.querySelectorAll("th[data-key]")) {
      th.tabIndex = 0;
      const sort = () => {
        this.ascending = this.key === th.dataset.key ? !this.ascending : th.dataset.type !== "number";
        this.key = th.dataset.key;
        this.render();
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sort();
        }
      });
    }
  }

  show(rows) {
    this.rows = rows;
    this.render();
  }

  render() {
    const { key, ascending } = this;
    const type = this.table.querySelector(`th[data-key="${key}"]`)?.dataset.type ?? "number";
    const sorted = [...this.rows].sort((a, b) => {
      const x = a[key] ?? (type === "number" ? -Infinity : "");
      const y = b[key] ?? (type === "number" ? -Infinity : "");
      const order = type === "number" ? x - y : String(x).localeCompare(String(y));
      return ascending ? order : -order;
    });
    for (const th of this.table.querySelectorAll("th[data-key]")) {
      th.setAttribute("aria-sort", th.dataset.key === key ? (ascending ? "ascending" : "descending") : "none");
    }
    const body = this.table.querySelector("tbody");
    body.replaceChildren(...sorted.map((row) => tableRow(this.cells(row))));
    if (sorted.length === 0) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = this.table.querySelectorAll("thead th").length;
      td.textContent = this.empty;
      tr.append(td);
      body.append(tr);
    }
  }
}

// A table row from [[text or Node, className], ...], one per cell.
export function tableRow(cells) {
  const tr = document.createElement("tr");
  for (const [content, className] of cells) {
    const td = document.createElement("td");
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    if (className) td.className = className;
    tr.append(td);
  }
  return tr;
}

// A link inside the page: followed without reloading (see dashboard.js), still a real, shareable href.
export function pageLink(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.className = "page-link";
  a.textContent = text;
  return a;
}
