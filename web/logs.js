// Logs: the last warnings and errors the gateway kept, newest first.
import { h, table } from "./dom.js";
import { clockSeconds, count, plural } from "./text.js";

const LEVELS = { warning: ["Warning", "warn"], error: ["Error", "bad"], critical: ["Critical", "bad"] };

/** The logs view's content for the state. */
export function logs(state) {
  const ring = state.logs;
  if (ring === null) return h("p", null, "Reading the log…");
  if (ring === false) {
    return h("p", { id: "logs-absent" }, "This gateway's version does not keep its warnings for this page. Read them on the gateway with: journalctl -u wharf");
  }
  if (ring.lines.length === 0) return h("p", null, "No warnings or errors since the gateway started.");
  const kept = `The last ${plural(ring.lines.length, "warning or error", "warnings and errors")}, newest first (the gateway keeps up to ${count(ring.capacity)}${ring.dropped ? `; ${count(ring.dropped)} older ones were let go` : ""}).`;
  const rows = [...ring.lines].reverse().map((line) => {
    const [words, kind] = LEVELS[line.level] || [line.level, "neutral"];
    const metadata = Object.entries(line.metadata || {});
    return h(
      "tr",
      null,
      h("td", { class: "time" }, clockSeconds(line.time)),
      h("td", null, h("span", { class: `badge ${kind}` }, words)),
      h("td", null, line.label),
      h("td", null, line.message, metadata.length ? h("ul", { class: "plain metadata" }, metadata.map(([key, value]) => h("li", null, `${key}: ${value}`))) : null)
    );
  });
  return [h("p", null, kept), table(null, ["Time", "Level", "Part", "Message"], rows, { class: "logs" })];
}
