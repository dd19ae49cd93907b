// The few sentences at the top of every view: is the gateway working, is the cloud link up,
// how much is waiting.
import { adapterHealth, clock, plural, rate } from "./text.js";

/** [{text, kind, id}] for the state: kind is "good", "warn" or "bad"; id names the cloud link's line. */
export function summary(state) {
  const status = state.status;
  const lines = [];
  if (state.problem) {
    lines.push({
      kind: "bad",
      text: `The gateway does not answer since ${clock(state.problemSince)} (${state.problem}). The page keeps trying.`,
    });
  }
  if (!status) return lines;
  const problems = status.health.problems;
  if (problems.length === 0) lines.push({ kind: "good", text: "The gateway is working." });
  else if (problems.length === 1) lines.push({ kind: "bad", text: `The gateway reports a problem: ${problems[0]}.` });
  else lines.push({ kind: "bad", text: `The gateway reports ${problems.length} problems: ${problems.join("; ")}.` });
  const link = uplinkSentence(state);
  if (link) lines.push(link);
  const troubled = status.adapters.filter((adapter) => adapter.health !== "healthy");
  if (troubled.length > 0) {
    const names = troubled.map((adapter) => `${adapter.name} (${adapterHealth(adapter.health)[0].toLowerCase()})`);
    lines.push({
      kind: troubled.some((adapter) => adapter.health === "failed") ? "bad" : "warn",
      text: `${troubled.length} of ${plural(status.adapters.length, "device adapter")} ${troubled.length === 1 ? "is" : "are"} not fully working: ${names.join(", ")}.`,
    });
  }
  return lines;
}

/** The cloud link and its queue in one sentence, or null when the gateway has no uplink. */
export function uplinkSentence(state, now = Date.now()) {
  const { uplink, queue } = state.status;
  if (!uplink) return null;
  const waiting = queue && queue.depth > 0 ? `${plural(queue.depth, "message")} ${queue.depth === 1 ? "is" : "are"} waiting, the oldest from ${clock(now - queue.oldest_age_seconds * 1000)}` : "no messages are waiting";
  if (uplink.state === "connected") {
    const drain = queue && queue.depth > 0 && queue.drain_rate_per_second > 0 ? `; sending ${rate(queue.drain_rate_per_second)} per second` : "";
    return { id: "uplink-summary", kind: queue && queue.depth > 0 ? "warn" : "good", text: `The cloud link is up (${uplink.endpoint || uplink.remote}); ${waiting}${drain}.` };
  }
  const since = state.linkDownSeen
    ? `since ${clock(state.linkDownSince)}`
    : `(it was already down when this page was opened at ${clock(state.opened)})`;
  const trying = uplink.state === "connecting" ? " and Wharf is trying to connect again" : "";
  return { id: "uplink-summary", kind: "bad", text: `The cloud link is down ${since}${trying}; ${waiting}.` };
}
