// Uplink and queue: the link to the cloud broker and the messages waiting for it.
import { chart } from "./chart.js";
import { facts, h } from "./dom.js";
import { byLabel, total } from "./metrics.js";
import { seriesNote } from "./overview.js";
import { bytes, clock, count, dropReason, duration, label, linkState, plural, rate } from "./text.js";

/** The uplink view's content for the state. */
export function uplink(state) {
  const status = state.status;
  if (!status) return h("p", null, "Waiting for the gateway's first answer…");
  const link = status.uplink;
  if (!link) {
    return h("p", null, "This gateway has no cloud link (the uplink is not enabled in wharf.yaml): messages stay on site.");
  }
  const [words, kind] = linkState(link.state);
  const queue = status.queue;
  return [
    h(
      "div",
      { class: "cards" },
      h(
        "section",
        { class: "card" },
        h("h3", null, "Cloud link"),
        facts([
          ["State", h("span", { class: `badge ${kind}`, id: "uplink-state" }, words)],
          ["Cloud broker", link.endpoint || link.remote],
          ["Why the last try failed", link.last_error || null],
          ["Connection attempts since start", count(link.reconnects)],
          ["Switches to another broker", link.failovers ? count(link.failovers) : null],
          ["Sent, awaiting the cloud's receipt", count(link.in_flight)],
          ["Delivered since start", count(link.acknowledged)],
        ])
      ),
      queue ? queueCard(queue, state) : null,
      deadLetters(state.metrics)
    ),
    chart({
      title: "Messages waiting",
      samples: state.series,
      lines: [{ key: "depth", name: "waiting", kind: "first" }],
      format: count,
    }),
    seriesNote(state),
  ];
}

function queueCard(queue, state) {
  const dropped = Object.entries(queue.dropped).filter(([, number]) => number > 0);
  return h(
    "section",
    { class: "card" },
    h("h3", null, "Queue"),
    facts(
      [
        ["Messages waiting", h("span", { id: "queue-depth" }, count(queue.depth))],
        ["Size on disk", bytes(queue.bytes)],
        ["Oldest message", queue.depth > 0 ? `from ${clock(state.statusAt - queue.oldest_age_seconds * 1000)} (${duration(queue.oldest_age_seconds)} old)` : "—"],
        ["Sending", `${rate(queue.drain_rate_per_second)} messages per second`],
        [
          "Dropped since start",
          dropped.length === 0
            ? "none"
            : h("ul", { class: "plain" }, dropped.map(([reason, number]) => h("li", null, `${plural(number, "message")}: ${dropReason(reason)}`))),
        ],
      ],
      { id: "queue-facts" }
    )
  );
}

/** The messages the cloud refused for good, by reason (from /metrics). */
function deadLetters(metrics) {
  if (!metrics) return null;
  const kept = total(metrics, "wharf_uplink_dead_letters");
  const reasons = Object.entries(byLabel(metrics, "wharf_uplink_dead_letters_total", "reason"));
  return h(
    "section",
    { class: "card" },
    h("h3", null, "Refused by the cloud"),
    facts([
      ["Kept for inspection", `${plural(kept, "message")} (wharfctl queue dead-letters)`],
      [
        "Refused since start",
        reasons.length === 0 ? "none" : h("ul", { class: "plain" }, reasons.map(([reason, number]) => h("li", null, `${count(number)} × ${label(reason)}`))),
      ],
    ])
  );
}
