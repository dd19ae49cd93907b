// Configuration: what runs (secrets hidden by the gateway), where each part came from, and
// the state of configuration pushed from the cloud.
import { facts, h } from "./dom.js";
import { clock, duration, label } from "./text.js";

const RESULT_WORDS = {
  applied: "applied",
  rejected: "refused",
  "rolled-back": "rolled back",
  "pending-confirmation": "running on trial, waiting for confirmation",
};

/** The configuration view's content for the state. */
export function configuration(state) {
  return [remote(state.status?.remote_config), sections(state.config, state.sources || {})];
}

function remote(config) {
  if (config === undefined) return null;
  if (!config || !config.enabled) {
    return h("section", { class: "card" }, h("h3", null, "Remote configuration"), h("p", null, "Not enabled: the configuration comes from the local file (wharf.yaml) alone."));
  }
  const attempt = config.last_attempt;
  return h(
    "section",
    { class: "card", id: "remote-config" },
    h("h3", null, "Remote configuration"),
    facts([
      ["Running", config.running_version === null ? "the local file alone" : `version ${config.running_version}${config.provisional ? " (on trial)" : ""}`],
      ["Time left to confirm it", config.confirmation_seconds_left != null ? duration(config.confirmation_seconds_left) : null],
      ["Newest version sent by the cloud", config.desired_version === null ? "none yet" : `version ${config.desired_version}`],
      ["Last version known good", config.last_known_good_version === null ? "the local file alone" : `version ${config.last_known_good_version}`],
      ["Last attempt", attempt ? `version ${attempt.version}: ${RESULT_WORDS[attempt.result] || attempt.result}, ${clock(attempt.started_at * 1000)}` : "none"],
      ["Sections it changed", attempt?.sections?.length ? attempt.sections.join(", ") : null],
      ["Control topics", `${config.topic_prefix}/…`],
      ["Fingerprint of the running configuration", h("code", null, config.effective_config_hash)],
    ]),
    attempt?.errors?.length
      ? h("div", null, h("p", null, "Why it failed:"), h("ul", null, attempt.errors.map((error) => h("li", null, error.path ? `${error.path}: ${error.message}` : error.message))))
      : null
  );
}

function sections(config, sources) {
  if (config === null) return h("p", null, "Reading the configuration…");
  return h(
    "section",
    { class: "config" },
    h("h3", null, "Configuration in effect"),
    h("p", { class: "muted" }, "Passwords and keys are hidden (shown as ***)."),
    Object.entries(config).map(([key, value]) =>
      h(
        "details",
        { "data-key": `config-${key}` },
        h("summary", { "data-key": `config-summary-${key}` }, label(key), " ", origin(key, sources)),
        parts(key, sources),
        tree(value)
      )
    )
  );
}

function origin(key, sources) {
  const source = sources[key];
  if (!source) return null;
  return h("span", { class: "badge neutral" }, words(source));
}

function words(source) {
  return source === "local" ? "from the local file" : source.startsWith("remote:") ? `from the cloud, version ${source.slice(7)}` : source;
}

/** Where the parts of a section (`uplink.forward`) came from, when they differ. */
function parts(key, sources) {
  const inner = Object.entries(sources).filter(([path]) => path.startsWith(key + "."));
  if (inner.length === 0) return null;
  return facts(inner.map(([path, source]) => [label(path.slice(key.length + 1)), words(source)]), { class: "facts sources" });
}

function tree(value) {
  if (Array.isArray(value)) {
    if (value.length === 0) return h("span", { class: "muted" }, "none");
    if (value.every((item) => item === null || typeof item !== "object")) return value.map(scalar).join(", ");
    return h("ol", { class: "items" }, value.map((item) => h("li", null, tree(item))));
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return h("span", { class: "muted" }, "none");
    return h("dl", { class: "tree" }, entries.map(([key, inner]) => h("div", null, h("dt", null, label(key)), h("dd", null, tree(inner)))));
  }
  return scalar(value);
}

function scalar(value) {
  if (value === null) return "not set";
  if (value === true) return "yes";
  if (value === false) return "no";
  if (value === "***") return "*** (hidden)";
  if (value === "") return "(empty)";
  return String(value);
}
