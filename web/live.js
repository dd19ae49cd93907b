// Keeps the page up to date: server-sent events when the gateway has them, otherwise one
// status request every 5 seconds; the other documents only while a view shows them.
import { LoginRequired, getJSON, getText } from "./api.js";
import { parseMetrics } from "./metrics.js";
import { changed, state, takeHistory, takeLogLine, takeProblem, takeSample, takeStatus } from "./store.js";

const POLL_INTERVAL = 5000;
const METRICS_INTERVAL = 10000;
/** Without a status for this long the page says the gateway went quiet. */
const STALE_AFTER = 15000;

let events = null;
let timers = [];
let onLogin = () => {};
let wanted = () => ({ metrics: false, logs: false });

/** Sets what the view on screen wants beyond the status (`needs()`), and what to do when the
 * gateway asks for a login. */
export function configure(needs, loginNeeded) {
  wanted = needs;
  onLogin = loginNeeded;
}

/** Starts the updates. */
export function start() {
  stop();
  openEvents();
  timers.push(setInterval(watchdog, POLL_INTERVAL));
  timers.push(setInterval(refreshExtras, METRICS_INTERVAL));
  loadHistory();
}

/** Stops every update (before the login form is shown). */
export function stop() {
  events?.close();
  events = null;
  for (const timer of timers) clearInterval(timer);
  timers = [];
}

/** Catches what every request may throw: a login to ask for, or a gateway that does not answer. */
export async function guarded(work) {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LoginRequired) {
      stop();
      onLogin();
    } else {
      takeProblem(error.message);
    }
    return undefined;
  }
}

function openEvents() {
  if (typeof EventSource === "undefined") return startPolling();
  const source = new EventSource("/api/v1/events");
  events = source;
  source.addEventListener("open", () => {
    state.live = "events";
    changed();
  });
  source.addEventListener("status", (event) => takeStatus(JSON.parse(event.data)));
  source.addEventListener("sample", (event) => takeSample(JSON.parse(event.data)));
  source.addEventListener("log", (event) => takeLogLine(JSON.parse(event.data)));
  source.addEventListener("error", () => {
    // CLOSED: the gateway answered something else than a stream (no such endpoint in this
    // version, or a login is needed); CONNECTING: the browser reconnects by itself.
    if (source.readyState !== EventSource.CLOSED || events !== source) return;
    source.close();
    events = null;
    startPolling();
  });
}

function startPolling() {
  if (state.live === "polling") return;
  state.live = "polling";
  pollStatus();
  timers.push(setInterval(pollStatus, POLL_INTERVAL));
}

/** Reads the status once (also the first read, before any event). */
export function pollStatus() {
  return guarded(async () => {
    const status = await getJSON("/api/v1/status");
    if (status) takeStatus(status);
    if (state.live === "polling" && wanted().logs && state.logs !== false) await loadLogs();
  });
}

function loadHistory() {
  return guarded(async () => {
    const history = await getJSON("/api/v1/history");
    if (history) takeHistory(history);
  });
}

function watchdog() {
  if (state.statusAt && Date.now() - state.statusAt > STALE_AFTER && !state.problem) {
    takeProblem("the gateway has stopped sending updates");
  }
  if (state.live === "events" && state.problem) pollStatus();
}

/** Reads what the view on screen needs beyond the status: /metrics, the log lines. */
export function refreshExtras(force = false) {
  const needs = wanted();
  return guarded(async () => {
    if (needs.metrics && state.metrics !== false && (force || Date.now() - state.metricsAt >= METRICS_INTERVAL - 500)) {
      const text = await getText("/metrics");
      state.metrics = text === null ? false : parseMetrics(text);
      state.metricsAt = Date.now();
      changed();
    }
    if (needs.logs && (state.logs === null || force)) await loadLogs();
  });
}

async function loadLogs() {
  const logs = await getJSON("/api/v1/logs");
  state.logs = logs === null ? false : logs;
  changed();
}

/** Reads the configuration and its sources (for the configuration view). */
export function loadConfig() {
  return guarded(async () => {
    const [config, sources] = await Promise.all([getJSON("/api/v1/config"), getJSON("/api/v1/config/sources")]);
    state.config = config;
    state.sources = sources || {};
    changed();
  });
}
