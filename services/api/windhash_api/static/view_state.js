// What the dashboard shows, kept in the URL so that any view is a shareable link:
// ?from=YYYY-MM-DD&to=YYYY-MM-DD&model=S21[&party=NAME | &farm=CODE][&day=YYYY-MM-DD]
// The span is any from/to range; the API is asked for the day, month or year when the range is exactly one
// (their summaries are read directly), otherwise for range/FROM..TO.

export const state = { from: "", to: "", model: "", party: "", farm: "", day: "", live: "" };
const KEYS = ["from", "to", "model", "party", "farm", "day", "live"];

const pad = (n) => String(n).padStart(2, "0");
export const isoDay = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const utc = (iso) => new Date(`${iso}T00:00:00Z`);

export function monthEnd(iso) {
  const d = utc(iso);
  return isoDay(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)));
}

// The kind of span from/to is: daily, monthly, yearly (exactly one) or range.
export function spanKind(from, to) {
  if (from === to) return "daily";
  if (from.endsWith("-01") && to === monthEnd(from)) return "monthly";
  if (from.endsWith("-01-01") && to === `${from.slice(0, 4)}-12-31`) return "yearly";
  return "range";
}

export function spanPath(from = state.from, to = state.to) {
  const kind = spanKind(from, to);
  const value = { daily: from, monthly: from.slice(0, 7), yearly: from.slice(0, 4), range: `${from}..${to}` }[kind];
  return `${kind}/${value}`;
}

// The span of one kind that holds a date: its day, its month or its year.
export function spanOf(kind, iso) {
  if (kind === "daily") return [iso, iso];
  if (kind === "monthly") return [`${iso.slice(0, 7)}-01`, monthEnd(iso)];
  if (kind === "yearly") return [`${iso.slice(0, 4)}-01-01`, `${iso.slice(0, 4)}-12-31`];
  return [state.from || iso, state.to || iso];
}

// The next or previous span of the same length (a month steps a month, a range its own number of days).
export function stepSpan(direction) {
  const kind = spanKind(state.from, state.to);
  const from = utc(state.from);
  if (kind === "monthly") return spanOf(kind, isoDay(new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + direction, 1))));
  if (kind === "yearly") return spanOf(kind, `${from.getUTCFullYear() + direction}-01-01`);
  const days = Math.round((utc(state.to) - from) / 86400000) + 1;
  const shift = (iso) => isoDay(new Date(utc(iso).getTime() + direction * days * 86400000));
  return [shift(state.from), shift(state.to)];
}

export function scope() {
  if (state.farm) return "farm";
  return state.party ? "party" : "all";
}

// Read the URL (older links with ?timeframe=monthly&value=2024-04 still open where they pointed).
export function readUrl(latest) {
  const asked = new URLSearchParams(location.search);
  for (const key of KEYS) state[key] = asked.get(key) ?? "";
  state.model = state.model || asked.get("miner_model") || "";
  state.party = state.party || asked.get("lead_party") || "";
  const timeframe = asked.get("timeframe");
  const value = asked.get("value");
  if (!state.from && timeframe && value) {
    const start = { daily: value, monthly: `${value}-01`, yearly: `${value}-01-01` }[timeframe] ?? latest;
    [state.from, state.to] = spanOf(timeframe, start);
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(state.from) || !/^\d{4}-\d{2}-\d{2}$/.test(state.to) || state.to < state.from) {
    [state.from, state.to] = spanOf("monthly", latest);
  }
}

export function link(changes = {}) {
  const next = { ...state, ...changes };
  const kept = KEYS.filter((key) => next[key]).map((key) => [key, next[key]]);
  return `?${new URLSearchParams(kept)}`;
}

export function writeUrl(push) {
  const url = link();
  if (url === location.search) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}
