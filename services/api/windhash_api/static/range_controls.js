// The span picker: a day, a month, a year or any from/to range, with steps back and forward.
// It edits view_state's from/to and calls onChange; the page loads and writes the URL.
import { spanKind, spanOf, state, stepSpan } from "./view_state.js";

const $ = (id) => document.getElementById(id);
const LABELS = { daily: "Date", monthly: "Month", yearly: "Year" };

// Shows the inputs that fit the kind and fills them from state.
export function showRange() {
  const kind = $("timeframe").value;
  const single = kind !== "range";
  $("date-label").hidden = !single;
  $("range-from-label").hidden = single;
  $("range-to-label").hidden = single;
  if (single) {
    const input = $("date-input");
    input.type = { daily: "date", monthly: "month", yearly: "number" }[kind];
    if (kind === "yearly") Object.assign(input, { min: "2001", max: "2099" });
    input.value = { daily: state.from, monthly: state.from.slice(0, 7), yearly: state.from.slice(0, 4) }[kind];
    $("date-label").firstChild.textContent = LABELS[kind];
  } else {
    $("range-from").value = state.from;
    $("range-to").value = state.to;
  }
}

function fromInputs() {
  const kind = $("timeframe").value;
  if (kind === "range") {
    const from = $("range-from").value;
    const to = $("range-to").value;
    if (!from || !to) return false;
    [state.from, state.to] = from <= to ? [from, to] : [to, from];
    return true;
  }
  const value = $("date-input").value;
  if (!value) return false;
  const start = { daily: value, monthly: `${value}-01`, yearly: `${value}-01-01` }[kind];
  [state.from, state.to] = spanOf(kind, start);
  return true;
}

export function initRange(onChange) {
  $("timeframe").value = spanKind(state.from, state.to);
  showRange();
  $("timeframe").addEventListener("change", () => {
    const kind = $("timeframe").value;
    if (kind !== "range") [state.from, state.to] = spanOf(kind, state.from);
    showRange();
    onChange();
  });
  for (const id of ["date-input", "range-from", "range-to"]) {
    $(id).addEventListener("change", () => {
      if (fromInputs()) onChange();
    });
  }
  for (const [id, direction] of [["range-previous", -1], ["range-next", 1]]) {
    $(id).addEventListener("click", () => {
      [state.from, state.to] = stepSpan(direction);
      showRange();
      onChange();
    });
  }
}

// After the URL changed under the page (back/forward): the inputs follow it.
export function syncRange() {
  $("timeframe").value = spanKind(state.from, state.to);
  showRange();
}
