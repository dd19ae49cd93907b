// A small line chart drawn with SVG: one line per series, no axes but a scale line in text.
import { h, s } from "./dom.js";
import { clock, duration } from "./text.js";

const WIDTH = 600;
const HEIGHT = 150;

/**
 * chart({title, samples, lines: [{key, name, kind}], format, describe}) → a <figure>.
 * `samples` are {t (ms), [key]: number}; `kind` picks the line's colour class.
 */
export function chart({ title, samples, lines, format, empty }) {
  const points = samples.filter((sample) => lines.some((line) => Number.isFinite(sample[line.key])));
  const caption = h("figcaption", null, title);
  if (points.length < 2) {
    return h("figure", { class: "chart" }, caption, h("p", { class: "muted" }, empty || "Not enough data yet: the chart fills in as the page runs."));
  }
  const first = points[0].t;
  const last = points[points.length - 1].t;
  const span = Math.max(1, last - first);
  const highest = Math.max(1, ...points.flatMap((sample) => lines.map((line) => sample[line.key] || 0)));
  const top = niceCeiling(highest);
  const x = (t) => (((t - first) / span) * WIDTH).toFixed(1);
  const y = (value) => (HEIGHT - (Math.max(0, value) / top) * (HEIGHT - 4) - 2).toFixed(1);
  const now = points[points.length - 1];
  const summary = lines.map((line) => `${line.name} ${format(now[line.key])}`).join(", ");
  const label = `${title}, over the last ${duration((last - first) / 1000)}: now ${summary}; the highest line on the chart is ${format(top)}.`;
  const svg = s(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: "none", role: "img", "aria-label": label },
    s("line", { class: "grid", x1: 0, x2: WIDTH, y1: y(top), y2: y(top) }),
    s("line", { class: "grid", x1: 0, x2: WIDTH, y1: y(top / 2), y2: y(top / 2) }),
    s("line", { class: "grid", x1: 0, x2: WIDTH, y1: y(0), y2: y(0) }),
    lines.map((line) =>
      s("polyline", {
        class: `line ${line.kind}`,
        points: points.filter((sample) => Number.isFinite(sample[line.key])).map((sample) => `${x(sample.t)},${y(sample[line.key])}`).join(" "),
      })
    )
  );
  return h(
    "figure",
    { class: "chart" },
    caption,
    h("p", { class: "chart-scale" }, `Top line ${format(top)}, middle line ${format(top / 2)}, bottom line 0.`),
    svg,
    h("div", { class: "chart-axis" }, h("span", null, clock(first)), h("span", null, clock(last))),
    h(
      "ul",
      { class: "legend" },
      lines.map((line) => h("li", { class: line.kind }, h("span", { class: "swatch", "aria-hidden": "true" }), `${line.name}: now ${format(now[line.key])}`))
    )
  );
}

/** 1, 2, 5 × 10^n at or above `value`. */
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}
