// Overview: what the daemon is, how long it runs, its clients and the message rates.
import { chart } from "./chart.js";
import { facts, h } from "./dom.js";
import { adapterHealth, bytes, clock, count, duration, label, plural, rate } from "./text.js";

/** The overview's content for the state. */
export function overview(state) {
  const status = state.status;
  if (!status) return h("p", null, "Waiting for the gateway's first answer…");
  const started = state.statusAt - status.uptime_seconds * 1000;
  const broker = status.broker;
  const last = state.series[state.series.length - 1];
  return [
    h(
      "div",
      { class: "cards" },
      card("Gateway", facts([
        ["Name", status.gateway_id],
        ["Wharf version", status.version],
        ["Running for", `${duration(status.uptime_seconds)} (since ${clock(started)})`],
        ["Health", status.health.problems.length === 0 ? "Everything is working" : plural(status.health.problems.length, "problem")],
      ]), status.health.problems.length ? h("ul", { class: "problems" }, status.health.problems.map((problem) => h("li", null, problem))) : null),
      card("Clients and messages", facts([
        ["Clients connected", `${count(broker.clients_connected)} (at most ${count(broker.clients_maximum)} at once)`],
        ["Messages in", last ? `${rate(last.in)} per second` : null],
        ["Messages out", last ? `${rate(last.out)} per second` : null],
        ["Received since start", `${count(broker.messages_received)} messages, ${bytes(broker.bytes_received)}`],
        ["Sent since start", `${count(broker.messages_sent)} messages, ${bytes(broker.bytes_sent)}`],
        ["Subscriptions", count(broker.subscriptions)],
        ["Retained messages", count(broker.retained)],
      ])),
      process(status.process),
      card("Listening on", h("ul", { class: "plain" }, status.listeners.map((listener) => h("li", null, `${listener.address} (${listener.name})`)))),
      card("Devices", adapters(status.adapters), h("p", null, h("a", { href: "#/devices" }, "See every device"))),
    ),
    chart({
      title: "Messages per second",
      samples: state.series,
      lines: [
        { key: "in", name: "in", kind: "first" },
        { key: "out", name: "out", kind: "second" },
      ],
      format: rate,
    }),
    seriesNote(state),
  ];
}

function card(title, ...content) {
  return h("section", { class: "card" }, h("h3", null, title), content);
}

/** The daemon's CPU and memory, when this wharfd reports them (`status.process`). */
function process(figures) {
  if (!figures || typeof figures !== "object") return null;
  const rows = Object.entries(figures).map(([key, value]) => {
    if (typeof value !== "number") return [label(key), String(value)];
    if (key.endsWith("_bytes")) return [label(key.slice(0, -6)), bytes(value)];
    if (key.endsWith("_percent")) return [label(key.slice(0, -8)), `${rate(value)} %`];
    if (key.endsWith("_seconds")) return [label(key.slice(0, -8)), duration(value)];
    return [label(key), count(value)];
  });
  return card("Daemon process", facts(rows));
}

function adapters(list) {
  if (list.length === 0) return h("p", null, "No device adapters are set up: this gateway runs its MQTT broker only.");
  const groups = {};
  for (const adapter of list) {
    const [words] = adapterHealth(adapter.health);
    groups[words] = (groups[words] || 0) + 1;
  }
  const parts = Object.entries(groups).map(([words, number]) => `${number} ${words.toLowerCase()}`);
  return h("p", null, `${plural(list.length, "device adapter")}: ${parts.join(", ")}.`);
}

/** Where the chart's figures come from. */
export function seriesNote(state) {
  if (state.seriesSource === "page") {
    return h("p", { class: "muted" }, `The gateway keeps no history: the charts show what this page measured since it was opened at ${clock(state.opened)}.`);
  }
  return null;
}
