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
