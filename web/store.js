// What the page knows of the gateway, and who wants to hear when it changes.

const HOUR = 3600 * 1000;
/** Samples derived from status documents are taken at most this often. */
const DERIVED_INTERVAL = 4500;

export const state = {
  /** The last status document, and when it arrived (ms). */
  status: null,
  statusAt: 0,
  /** Chart samples: {t, in, out, depth, bytes, clients}, oldest first, the last hour. */
  series: [],
  /** "history" when the gateway keeps the samples, "page" when the page measures them itself. */
  seriesSource: null,
  /** The log ring ({capacity, dropped, lines}); null until read, false when the gateway keeps none. */
  logs: null,
  /** Parsed /metrics samples and when they were read; false when /metrics is absent. */
  metrics: null,
  metricsAt: 0,
  /** The effective configuration and where its parts came from. */
  config: null,
  sources: null,
  /** {login_required, user}; false when the gateway has no sessions. */
  session: null,
  /** How updates arrive: "events", "polling" or "starting". */
  live: "starting",
  /** Why the gateway is not answering, and since when. */
  problem: null,
  problemSince: 0,
  /** When the uplink was first seen down, and whether the page saw it go down. */
  linkDownSince: 0,
  linkDownSeen: false,
  /** When the page opened. */
  opened: Date.now(),
  /** The outcome of the last action, shown until the next one. */
  notice: null,
};

let previous = null;
const listeners = new Set();

/** Calls `listener` after every change. */
export function onChange(listener) {
  listeners.add(listener);
}

/** Tells the listeners that something changed. */
export function changed() {
  for (const listener of listeners) listener();
}

/** Takes a status document: keeps it, notes the uplink's outages, derives a chart sample. */
export function takeStatus(status, now = Date.now()) {
  const before = state.status;
  state.status = status;
  state.statusAt = now;
  state.problem = null;
  const link = status.uplink;
  if (link && link.state !== "connected") {
    if (!state.linkDownSince) {
      const wasUp = before?.uplink?.state === "connected";
      state.linkDownSince = now;
      state.linkDownSeen = wasUp;
    }
  } else {
    state.linkDownSince = 0;
    state.linkDownSeen = false;
  }
  if (state.seriesSource !== "history") derive(status, now);
  changed();
}

function derive(status, now) {
  if (previous && now - previous.at < DERIVED_INTERVAL) return;
  if (previous) {
    const seconds = (now - previous.at) / 1000;
    const rate = (after, before) => Math.max(0, (after - before) / seconds);
    addSample({
      t: now,
      in: rate(status.broker.messages_received, previous.status.broker.messages_received),
      out: rate(status.broker.messages_sent, previous.status.broker.messages_sent),
      depth: status.queue ? status.queue.depth : null,
      bytes: status.queue ? status.queue.bytes : null,
      clients: status.broker.clients_connected,
    });
    state.seriesSource = "page";
  }
  previous = { at: now, status };
}

/** Replaces the chart samples with the gateway's history. */
export function takeHistory(history) {
  state.series = [];
  for (const sample of history.samples) addSample(fromHistory(sample));
  state.seriesSource = "history";
  changed();
}

/** Adds one sample of the gateway's history (a `sample` event). */
export function takeSample(sample) {
  if (state.seriesSource !== "history") return;
  addSample(fromHistory(sample));
  changed();
}

function fromHistory(sample) {
  return {
    t: Date.parse(sample.time),
    in: sample.messages_in_per_second,
    out: sample.messages_out_per_second,
    depth: sample.queue_depth,
    bytes: sample.queue_bytes,
    clients: sample.connected_clients,
  };
}

function addSample(sample) {
  state.series.push(sample);
  const oldest = sample.t - HOUR;
  while (state.series.length > 0 && state.series[0].t < oldest) state.series.shift();
}

/** Adds one log line (a `log` event), keeping the ring's capacity. */
export function takeLogLine(line) {
  if (!state.logs) return;
  state.logs.lines.push(line);
  const extra = state.logs.lines.length - (state.logs.capacity || 1000);
  if (extra > 0) state.logs.lines.splice(0, extra);
  changed();
}

/** Notes that the gateway did not answer. */
export function takeProblem(message, now = Date.now()) {
  if (!state.problem) state.problemSince = now;
  state.problem = message;
  changed();
}
