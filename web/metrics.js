// Reads the Prometheus text of /metrics: per-device and per-reason counters the status leaves out.

const LINE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text: [{name, labels: {}, value}]. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, key, value] of (match[2] || "").matchAll(LABEL)) {
      labels[key] = value.replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples named `name` whose labels include every pair of `where`. */
export function select(samples, name, where = {}) {
  return (samples || []).filter(
    (sample) => sample.name === name && Object.entries(where).every(([key, value]) => sample.labels[key] === value)
  );
}

/** The sum of the samples `select` finds (0 when there are none). */
export function total(samples, name, where = {}) {
  return select(samples, name, where).reduce((sum, sample) => sum + sample.value, 0);
}

/** {labelValue: sum} of the samples `select` finds, grouped by one label; zero entries left out. */
export function byLabel(samples, name, key, where = {}) {
  const groups = {};
  for (const sample of select(samples, name, where)) {
    const group = sample.labels[key] ?? "";
    groups[group] = (groups[group] || 0) + sample.value;
  }
  for (const [group, value] of Object.entries(groups)) if (!value) delete groups[group];
  return groups;
}
