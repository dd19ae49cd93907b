// Numbers, sizes, times and the gateway's words in plain English.

const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

/** 12345 → "12,345". */
export function count(value) {
  return Number.isFinite(value) ? integer.format(value) : "—";
}

/** A rate with one decimal below 10: 4.25 → "4.3", 125 → "125". */
export function rate(value) {
  if (!Number.isFinite(value)) return "—";
  return value < 10 ? decimal.format(value) : integer.format(value);
}

/** "1 message", "2 messages". */
export function plural(value, one, many = one + "s") {
  return `${count(value)} ${value === 1 ? one : many}`;
}

/** 2048 → "2.0 kB" (decimal units, as disks are sold). */
export function bytes(value) {
  if (!Number.isFinite(value)) return "—";
  const units = ["bytes", "kB", "MB", "GB", "TB"];
  let size = value;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit += 1;
  }
  return unit === 0 ? plural(value, "byte") : `${decimal.format(size)} ${units[unit]}`;
}

/** 3725 → "1 hour 2 minutes": the two largest units, whole. */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "—";
  let rest = Math.floor(seconds);
  const parts = [];
  for (const [size, unit] of [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]]) {
    const value = Math.floor(rest / size);
    rest -= value * size;
    if (value > 0 || parts.length > 0) parts.push([value, unit]);
  }
  const shown = parts.slice(0, 2).filter(([value]) => value > 0);
  if (shown.length === 0) return "less than a second";
  return shown.map(([value, unit]) => plural(value, unit)).join(" ");
}

/** "10:42" for today, "7 Dec 10:42" otherwise (the browser's time zone). */
export function clock(time) {
  const date = time instanceof Date ? time : new Date(time);
  if (Number.isNaN(date.getTime())) return "—";
  const hours = date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  if (new Date().toDateString() === date.toDateString()) return hours;
  return `${date.toLocaleDateString("en-GB", { day: "numeric", month: "short" })} ${hours}`;
}

/** "10:42:07" for log lines. */
export function clockSeconds(time) {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return String(time);
  const seconds = date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  if (new Date().toDateString() === date.toDateString()) return seconds;
  return `${date.toLocaleDateString("en-GB", { day: "numeric", month: "short" })} ${seconds}`;
}

/** "12 seconds ago". */
export function ago(seconds) {
  if (!Number.isFinite(seconds)) return "—";
  return seconds < 1 ? "just now" : `${duration(seconds)} ago`;
}

const ACRONYMS = new Set(["acl", "api", "cpu", "id", "ip", "mqtt", "qos", "tcp", "tls", "ttl", "udp", "uri", "url", "ws", "wss"]);

/** `uplink.forward` → "Uplink forward"; `max_bytes` → "Max bytes"; `cpu_percent` → "CPU percent". */
export function label(key) {
  const words = String(key)
    .replace(/[._-]+/g, " ")
    .trim()
    .split(" ")
    .map((word) => (ACRONYMS.has(word.toLowerCase()) ? word.toUpperCase() : word));
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An adapter's health in words, with the badge class. */
export function adapterHealth(health) {
  return (
    {
      healthy: ["Working", "good"],
      starting: ["Starting", "neutral"],
      degraded: ["Partly working", "warn"],
      failed: ["Not working", "bad"],
      stopped: ["Stopped", "neutral"],
    }[health] || [label(health || "unknown"), "neutral"]
  );
}

/** A plugin process's state in words. */
export function processState(state) {
  return (
    {
      starting: ["Starting", "neutral"],
      running: ["Running", "good"],
      backoff: ["Restarting after a failure", "warn"],
      quarantined: ["Stopped after crashing repeatedly (quarantined)", "bad"],
      stopping: ["Stopping", "neutral"],
      stopped: ["Stopped", "neutral"],
    }[state] || [label(state || "unknown"), "neutral"]
  );
}

/** The uplink's state in words. */
export function linkState(state) {
  return (
    {
      connected: ["Connected", "good"],
      connecting: ["Connecting", "warn"],
      "backing-off": ["Down, waiting to try again", "bad"],
      stopped: ["Stopped", "neutral"],
    }[state] || [label(state || "unknown"), "neutral"]
  );
}

/** What an adapter type is, for people. */
export function adapterType(type) {
  return { modbus: "Modbus", coap: "CoAP", plugin: "Plugin" }[type] || label(type);
}

/** Why the queue dropped messages, in words. */
export function dropReason(reason) {
  return (
    {
      "overflow-drop-oldest": "the queue was full: the oldest made room",
      "overflow-reject-new": "the queue was full: new ones were refused",
      expired: "they were too old to send",
      "disk-full": "the disk was full",
    }[reason] || label(reason)
  );
}
