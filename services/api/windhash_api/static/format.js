// Number formats for the dashboard, en-GB throughout.
const integer = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
const pounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", maximumFractionDigits: 0 });
const poundsPence = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP", minimumFractionDigits: 2 });
const compact = new Intl.NumberFormat("en-GB", { notation: "compact", maximumFractionDigits: 1 });

export const missing = "–";

export function mwh(value) {
  if (value === null || value === undefined) return missing;
  return `${value >= 100 ? integer.format(value) : oneDecimal.format(value)} MWh`;
}

export function gbp(value) {
  return value === null || value === undefined ? missing : pounds.format(value);
}

export function gbpPerMwh(value) {
  return value === null || value === undefined ? missing : `${poundsPence.format(value)}/MWh`;
}

export function btc(value) {
  if (value === null || value === undefined) return missing;
  const digits = value >= 100 ? 2 : value >= 1 ? 4 : 6;
  return `${value.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits })} BTC`;
}

export function ratio(value) {
  return value === null || value === undefined ? missing : `${value.toFixed(2)}×`;
}

export function axis(value) {
  return compact.format(value);
}

export function axisPounds(value) {
  return `£${compact.format(value)}`;
}

export function plain(value, digits = 0) {
  if (value === null || value === undefined) return missing;
  return value.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const dollars = new Intl.NumberFormat("en-GB", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const utcTime = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
const utcDay = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
const utcDayTime = new Intl.DateTimeFormat("en-GB", {
  day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: "UTC",
});

export function usd(value) {
  return value === null || value === undefined ? missing : dollars.format(value);
}

export function usdPerThDay(value) {
  return value === null || value === undefined ? missing : `$${value.toFixed(4)}/TH/day`;
}

// Difficulty in trillions (T), as explorers show it.
export function difficulty(value) {
  return value === null || value === undefined ? missing : `${(value / 1e12).toFixed(2)} T`;
}

export function axisDifficulty(value) {
  return `${compact.format(value / 1e12)} T`;
}

export function signed(value, digits = 2) {
  if (value === null || value === undefined) return missing;
  return `${value > 0 ? "+" : ""}${value.toFixed(digits)}`;
}

// Times are UTC throughout the market panel (slots start at multiples of 15 minutes from 00:00 UTC).
export function time(ms) {
  return `${utcTime.format(ms)}`;
}

export function day(ms) {
  return utcDay.format(ms);
}

export function dayHour(ms) {
  return `${utcDay.format(ms)} ${utcTime.format(ms)}`;
}

export function dayTime(ms) {
  return `${utcDayTime.format(ms)} UTC`;
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return missing;
  if (seconds < 120) return `${Math.round(seconds)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}
