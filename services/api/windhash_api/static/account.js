// windhash dashboard: signing in and out, choosing a new password, and role-aware navigation.
// Sessions live in an HttpOnly cookie the page never sees; every change the page sends carries the CSRF
// header the API requires of cookie-borne changes. Text from the API is only ever set as textContent.
const API = "/api/v1";
const $ = (id) => document.getElementById(id);
const CSRF = { "X-Windhash-CSRF": "1" };
const ADMIN_ROLES = new Set(["admin", "owner"]);
let me = null;

async function call(method, path, body) {
  const response = await fetch(`${API}${path}`, {
    method,
    headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}), ...CSRF },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data };
}

function message(result) {
  const error = result.data?.error;
  return error ? `${error.message}${error.hint ? ` — ${error.hint}` : ""}` : `HTTP ${result.status}`;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text ?? "–";
  row.append(td);
  return td;
}

function fillTable(id, rows, columns) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  for (const item of rows) {
    const row = document.createElement("tr");
    for (const column of columns) cell(row, typeof column === "function" ? column(item) : item[column]);
    body.append(row);
  }
}

function changes(entry) {
  const before = entry.before ?? {};
  return Object.entries(entry.after ?? {})
    .filter(([key, value]) => JSON.stringify(before[key]) !== JSON.stringify(value))
    .map(([key, value]) => `${key}: ${key in before ? `${JSON.stringify(before[key])} → ` : ""}${JSON.stringify(value)}`)
    .join("; ");
}

async function showAdmin(view) {
  $("admin-panel").hidden = false;
  $("crm-panel").hidden = true;
  document.body.dataset.admin = "loading";
  for (const name of ["users", "audit", "logins"]) $(`admin-${name}`).hidden = name !== view;
  if (view === "users") {
    const result = await call("GET", "/users");
    if (result.ok) fillTable("users-table", result.data, ["email", "name", "role", "status", (u) => (u.may_act_now ? "yes" : "no")]);
  } else if (view === "audit") {
    const result = await call("GET", "/audit?limit=200");
    if (result.ok) fillTable("audit-table", result.data, [(e) => e.occurred_at.slice(0, 19).replace("T", " "), "actor", "action", (e) => `${e.target_type}/${e.target_id ?? ""}`, changes]);
  } else {
    const result = await call("GET", "/login-records?limit=200");
    if (result.ok) fillTable("logins-table", result.data, [(r) => r.attempted_at.slice(0, 19).replace("T", " "), "email", "outcome", "ip", "country"]);
  }
  document.body.dataset.admin = view;
}

function renderNav() {
  const signedIn = me !== null;
  $("nav-login").hidden = signedIn;
  $("nav-user").hidden = !signedIn;
  $("nav-logout").hidden = !signedIn;
  const admin = signedIn && ADMIN_ROLES.has(me.role);
  for (const link of document.querySelectorAll(".admin-link")) link.hidden = !admin;
  if (!admin) $("admin-panel").hidden = true;
  // The CRM's pages, each for the roles it names (the CRM's own rules decide what they hold).
  for (const link of document.querySelectorAll("[data-roles]")) {
    link.hidden = !signedIn || !link.dataset.roles.split(" ").includes(me.role);
  }
  if (!signedIn) $("crm-panel").hidden = true;
  $("nav-user").textContent = signedIn ? `${me.user.email} · ${me.role}` : "";
  document.body.dataset.role = signedIn ? me.role : "anonymous";
}

async function refreshMe() {
  const result = await call("GET", "/auth/me");
  me = result.ok ? result.data : null;
  renderNav();
  if (me?.user.must_change_password) openDialog("password-dialog");
}

function openDialog(id) {
  const dialog = $(id);
  if (!dialog.open) dialog.showModal();
}

async function logIn(event) {
  event.preventDefault();
  const form = event.target;
  const result = await call("POST", "/auth/login", { email: form.email.value, password: form.password.value });
  form.password.value = "";
  if (!result.ok) {
    $("login-error").textContent = message(result);
    return;
  }
  $("login-error").textContent = "";
  $("login-dialog").close();
  await refreshMe();
  if (!me?.user.must_change_password) document.dispatchEvent(new CustomEvent("windhash:signed-in"));
}

async function changePassword(event) {
  event.preventDefault();
  const form = event.target;
  const result = await call("POST", "/auth/password", {
    current_password: form.current.value,
    new_password: form.next.value,
  });
  form.current.value = "";
  form.next.value = "";
  if (!result.ok) {
    $("password-error").textContent = message(result);
    return;
  }
  $("password-error").textContent = "";
  $("password-dialog").close();
  await refreshMe();
  document.dispatchEvent(new CustomEvent("windhash:signed-in"));
}

async function logOut() {
  await call("POST", "/auth/logout");
  me = null;
  renderNav();
  document.dispatchEvent(new CustomEvent("windhash:signed-out"));
}

// The analytics answered 401: they are private here, so ask for a login.
export function needLogin() {
  if (me === null) openDialog("login-dialog");
}

export async function initAccount() {
  $("nav-login").addEventListener("click", () => openDialog("login-dialog"));
  // No inline handlers: the page must work under a strict Content-Security-Policy.
  for (const button of document.querySelectorAll("dialog .cancel")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  $("nav-logout").addEventListener("click", logOut);
  $("login-form").addEventListener("submit", logIn);
  $("password-form").addEventListener("submit", changePassword);
  for (const link of document.querySelectorAll(".admin-link")) {
    link.addEventListener("click", (event) => { event.preventDefault(); showAdmin(link.dataset.view); });
  }
  await refreshMe();
}
