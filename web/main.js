// The page's entry point: views behind #/names, drawn again whenever the state changes.
import { LoginRequired, getJSON, logout } from "./api.js";
import { configuration } from "./config.js";
import { devices } from "./devices.js";
import { h, replace } from "./dom.js";
import { configure, loadConfig, pollStatus, refreshExtras, start, stop } from "./live.js";
import { setUpLogin, showLogin } from "./login.js";
import { logs } from "./logs.js";
import { overview } from "./overview.js";
import { onChange, state } from "./store.js";
import { summary } from "./summary.js";
import { uplink } from "./uplink.js";

const VIEWS = {
  overview: { title: "Overview", render: overview },
  devices: { title: "Devices", render: devices, metrics: true, config: true },
  uplink: { title: "Uplink and queue", render: uplink, metrics: true },
  config: { title: "Configuration", render: configuration, config: true },
  logs: { title: "Logs", render: logs, logs: true },
};

let current = "overview";
let drawing = false;

function viewFromHash() {
  const name = location.hash.startsWith("#/") ? location.hash.slice(2) : null;
  return name && VIEWS[name] ? name : null;
}

function go(focus) {
  const name = viewFromHash();
  if (name === null) {
    // Only #/name addresses are views: "#main" (the skip link) keeps the view on screen.
    if (!location.hash.startsWith("#/") && location.hash !== "") return;
    history.replaceState(null, "", "#/overview");
  }
  current = name || "overview";
  const view = VIEWS[current];
  state.notice = null;
  document.title = `${view.title} · Wharf`;
  if (view.config) loadConfig();
  refreshExtras(true);
  draw();
  if (focus) document.getElementById("view-title").focus();
}

function draw() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(() => {
    drawing = false;
    render();
  });
}

function render() {
  const view = VIEWS[current];
  document.getElementById("view-title").textContent = view.title;
  for (const link of document.querySelectorAll("nav a[data-view]")) {
    if (link.dataset.view === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (state.status) document.getElementById("gateway-name").textContent = state.status.gateway_id;
  const lines = summary(state);
  const box = document.getElementById("summary");
  const text = lines.map((line) => line.text).join(" ");
  if (box.dataset.text !== text) {
    box.dataset.text = text;
    box.replaceChildren(...lines.map((line) => h("p", { class: line.kind, id: line.id }, line.text)));
  }
  const notice = document.getElementById("notice");
  notice.hidden = !state.notice;
  notice.className = state.notice ? state.notice.kind : "";
  notice.textContent = state.notice ? state.notice.text : "";
  const account = document.getElementById("account");
  account.hidden = !state.session?.user;
  account.querySelector("[data-user]").textContent = state.session?.user || "";
  replace(document.getElementById("view"), view.render(state));
}

async function boot() {
  stop();
  let session = null;
  try {
    session = await getJSON("/api/v1/session");
  } catch (error) {
    // A gateway that does not answer yet is retried by the updates below.
    if (error instanceof LoginRequired) return loginNeeded();
  }
  state.session = session || false;
  if (session && session.login_required && !session.user) return loginNeeded();
  await pollStatus();
  if (document.body.classList.contains("logged-out")) return;
  start();
  go(false);
}

function loginNeeded() {
  showLogin(boot);
}

onChange(draw);
configure(() => ({ metrics: Boolean(VIEWS[current].metrics), logs: Boolean(VIEWS[current].logs) }), loginNeeded);
setUpLogin();
window.addEventListener("hashchange", () => go(true));
// A link to the view already on screen changes no hash: it still moves the focus to its title.
document.querySelector("nav").addEventListener("click", (event) => {
  const link = event.target.closest("a[data-view]");
  if (link && link.getAttribute("href") === location.hash) {
    event.preventDefault();
    go(true);
  }
});
document.getElementById("logout").addEventListener("click", async () => {
  await logout();
  location.reload();
});
boot();
