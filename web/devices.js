// Devices: every adapter and plugin, each device with its status, values and errors.
//
// Today's status document reports each adapter's health; the device list comes from the
// configuration and the per-device counters from /metrics. When the status carries
// `adapters[].devices` ({name, state, detail, last_seen, points: [{name, value, unit, time}],
// errors: {kind: n}}), the page shows those instead, with each value's age.
import { facts, h, table } from "./dom.js";
import { byLabel, total } from "./metrics.js";
import { confirmRestart } from "./restart.js";
import { adapterHealth, adapterType, ago, count, label, plural, processState } from "./text.js";

const ERROR_WORDS = {
  timeout: "no answer in time",
  exception: "refused by the device",
  connection: "could not connect",
  decode: "garbled answers",
  malformed: "malformed requests",
  dtls: "secure-connection failures",
  publish: "could not publish",
  client: "failed requests to devices",
};

/** The devices view's content for the state. */
export function devices(state) {
  const status = state.status;
  if (!status) return h("p", null, "Waiting for the gateway's first answer…");
  if (status.adapters.length === 0) {
    return h("p", null, "No device adapters are set up: this gateway runs its MQTT broker only. Devices and plugins are added under adapters: in wharf.yaml.");
  }
  const configs = state.config?.adapters || [];
  return [
    state.metrics === false ? h("p", { class: "muted" }, "This gateway does not publish its counters (/metrics), so errors per device are not shown.") : null,
    status.adapters.map((adapter) => section(adapter, configs.find((config) => config.name === adapter.name), state)),
  ];
}

function section(adapter, config, state) {
  const [words, kind] = adapterHealth(adapter.health);
  const metrics = state.metrics || [];
  return h(
    "section",
    { class: "card adapter", "data-name": adapter.name },
    h("h3", null, `${adapter.name} `, h("span", { class: "kind" }, adapterType(adapter.type)), " ", h("span", { class: `badge ${kind}` }, words)),
    adapter.detail ? h("p", { class: "detail" }, adapter.detail) : null,
    adapter.plugin ? plugin(adapter) : null,
    deviceTable(adapter, config, metrics, state),
    adapterErrors(adapter, metrics)
  );
}

function plugin(adapter) {
  const process = adapter.plugin;
  const [words, kind] = processState(process.state);
  return h(
    "div",
    { class: "plugin" },
    facts([
      ["Process", h("span", { class: `badge ${kind}` }, words)],
      ["Restarts since Wharf started", count(process.restarts)],
      ["Process id", process.pid ?? null],
      ["Plugin", process.name ? `${process.name}${process.version ? " " + process.version : ""}` : null],
      ["Messages published", count(process.publishes)],
      ["Messages refused", process.nacks ? count(process.nacks) : null],
      ["Commands sent to it", count(process.commands)],
      ["Commands dropped", process.commands_dropped ? count(process.commands_dropped) : null],
      ["Lines it wrote that were not understood", process.garbage_lines ? count(process.garbage_lines) : null],
    ]),
    process.refused_subscriptions?.length
      ? h("div", null, h("p", null, "Subscriptions refused:"), h("ul", null, process.refused_subscriptions.map((why) => h("li", null, why))))
      : null,
    process.state === "quarantined"
      ? h(
          "p",
          null,
          h("button", { type: "button", class: "action", "data-key": `restart-${adapter.name}`, onclick: () => confirmRestart(adapter.name) }, `Restart plugin ${adapter.name}…`)
        )
      : null
  );
}

function deviceTable(adapter, config, metrics, state) {
  if (Array.isArray(adapter.devices)) return reportedDevices(adapter);
  const listed = config?.settings?.devices;
  if (!Array.isArray(listed) || listed.length === 0) {
    return adapter.plugin ? null : h("p", { class: "muted" }, state.config ? "No devices listed in its configuration." : "Reading the device list…");
  }
  const rows = listed.map((device) => {
    const name = String(device.name);
    const where = { adapter: adapter.name, device: name };
    const points = Array.isArray(device.points) ? device.points.map((point) => point.name).filter(Boolean) : [];
    const polls = total(metrics, "wharf_modbus_polls_total", where);
    const published = total(metrics, "wharf_modbus_points_published_total", where);
    return h(
      "tr",
      { "data-device": name },
      h("th", { scope: "row" }, name),
      h("td", null, deviceState(adapter, name)),
      h("td", null, points.length ? points.join(", ") : device.uri || device.topic || "—"),
      h("td", null, adapter.type === "modbus" && state.metrics ? `${plural(polls, "poll")}, ${plural(published, "value")} published` : "—"),
      h("td", null, errors(byLabel(metrics, "wharf_modbus_errors_total", "kind", where)))
    );
  });
  return table(`Devices of ${adapter.name}`, ["Device", "Status", "Points", "Activity", "Errors"], rows, { class: "devices" });
}

/** A device's state as the adapter's health tells it (its detail names the devices offline). */
function deviceState(adapter, name) {
  const reason = new RegExp(`(?:^|[:,] )${escape(name)} \\(([^)]*)\\)`).exec(adapter.detail || "");
  if (reason) return h("span", { class: "badge bad" }, `Not answering: ${reason[1]}`);
  if (adapter.health === "starting") return h("span", { class: "badge neutral" }, "Starting");
  if (adapter.health === "stopped") return h("span", { class: "badge neutral" }, "Stopped");
  if (adapter.health === "failed" && adapter.type !== "modbus") return h("span", { class: "badge bad" }, "Not working");
  if (adapter.type === "modbus") return h("span", { class: "badge good" }, "Answering");
  return h("span", { class: "badge neutral" }, "Not reported");
}

function reportedDevices(adapter) {
  const now = Date.now();
  const rows = adapter.devices.map((device) => {
    const [words, kind] = { online: ["Answering", "good"], offline: ["Not answering", "bad"], starting: ["Starting", "neutral"] }[device.state] || [label(device.state || "unknown"), "neutral"];
    const values = (device.points || []).map((point) =>
      h("li", null, h("span", { class: "point" }, point.name), ": ", h("strong", null, `${formatValue(point.value)}${point.unit ? " " + point.unit : ""}`), point.time ? h("span", { class: "age" }, ` (${ago((now - Date.parse(point.time)) / 1000)})`) : null)
    );
    return h(
      "tr",
      { "data-device": device.name },
      h("th", { scope: "row" }, device.name),
      h("td", null, h("span", { class: `badge ${kind}` }, device.detail ? `${words}: ${device.detail}` : words)),
      h("td", null, values.length ? h("ul", { class: "plain values" }, values) : "—"),
      h("td", null, device.last_seen ? `last heard ${ago((now - Date.parse(device.last_seen)) / 1000)}` : "—"),
      h("td", null, errors(device.errors || {}))
    );
  });
  return table(`Devices of ${adapter.name}`, ["Device", "Status", "Last values", "Activity", "Errors"], rows, { class: "devices" });
}

function adapterErrors(adapter, metrics) {
  if (adapter.type !== "coap") return null;
  const kinds = byLabel(metrics, "wharf_coap_errors_total", "kind", { adapter: adapter.name });
  const requests = total(metrics, "wharf_coap_requests_total", { adapter: adapter.name });
  return facts([
    ["Requests from devices", metrics.length ? count(requests) : null],
    ["Errors", metrics.length ? errors(kinds) : null],
  ]);
}

function errors(kinds) {
  const entries = Object.entries(kinds);
  if (entries.length === 0) return "none";
  return h("ul", { class: "plain" }, entries.map(([kind, number]) => h("li", null, `${count(number)} × ${ERROR_WORDS[kind] || label(kind)}`)));
}

function formatValue(value) {
  if (typeof value === "number") return Number.isInteger(value) ? count(value) : String(Math.round(value * 1000) / 1000);
  if (value === null || value === undefined) return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
