/**
 * The Prometheus text exposition format (version 0.0.4) for the few metric
 * kinds imgserve uses: counters, gauges read at scrape time, histograms, and
 * the standard `process_*` metrics. Written here rather than taken from
 * prom-client, whose dependency tree (tdigest, bintrees) makes
 * `deno compile` overflow its stack.
 *
 * @module
 */

/** The content type of the exposition. */
export const EXPOSITION_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names to values. */
export type Labels = Record<string, string>;

/** One metric family: it renders its own `# HELP`, `# TYPE` and sample lines. */
export interface Family {
  render(): string | Promise<string>;
}

/** A metric name's value as the format writes it (`+Inf`, `NaN`, integers without a fraction). */
function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabel(value)}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}\n# TYPE ${name} ${type}\n`;
}

/** A counter, with or without labels. */
export class Counter implements Family {
  readonly #values = new Map<string, number>();

  /** @param labelled whether its series carry labels (an unlabelled one shows 0 before its first increase) */
  constructor(readonly name: string, readonly help: string, readonly labelled = false) {}

  /** Adds `by` (default 1) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** The value of one series, 0 when it was never increased. */
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }

  render(): string {
    let text = header(this.name, this.help, "counter");
    if (this.#values.size === 0 && !this.labelled) text += `${this.name} 0\n`;
    for (const [labels, value] of this.#values) text += `${this.name}${labels} ${number(value)}\n`;
    return text;
  }
}

/** A gauge (or a counter kept elsewhere, such as CPU time) whose series are read when the metrics are scraped. */
export class Sampled implements Family {
  /** @param read the series at scrape time: one number, or labelled values; undefined leaves the family out */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => number | [Labels, number][] | undefined | Promise<number | undefined>,
    readonly type: "gauge" | "counter" = "gauge",
  ) {}

  async render(): Promise<string> {
    const value = await this.read();
    if (value === undefined) return "";
    const series: [Labels, number][] = typeof value === "number" ? [[{}, value]] : value;
    let text = header(this.name, this.help, this.type);
    for (const [labels, v] of series) text += `${this.name}${labelText(labels)} ${number(v)}\n`;
    return text;
  }
}

/** A histogram without labels, with fixed upper bounds. */
export class Histogram implements Family {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /** @param buckets upper bounds in seconds, ascending; `+Inf` is added */
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {
    this.#counts = buckets.map(() => 0);
  }

  /** Records one value. */
  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    const i = this.buckets.findIndex((bound) => value <= bound);
    if (i >= 0) this.#counts[i]++;
  }

  /** Starts a timer; the function it returns observes the seconds since. */
  startTimer(): () => void {
    const start = performance.now();
    return () => this.observe((performance.now() - start) / 1000);
  }

  render(): string {
    let text = header(this.name, this.help, "histogram");
    let cumulative = 0;
    this.buckets.forEach((bound, i) => {
      cumulative += this.#counts[i];
      text += `${this.name}_bucket{le="${number(bound)}"} ${cumulative}\n`;
    });
    text += `${this.name}_bucket{le="+Inf"} ${this.#count}\n`;
    text += `${this.name}_sum ${number(this.#sum)}\n${this.name}_count ${this.#count}\n`;
    return text;
  }
}

/** The families of one server, rendered in registration order. */
export class Registry {
  readonly contentType: string = EXPOSITION_TYPE;
  readonly #families: Family[] = [];

  /** Adds a family and returns it. */
  add<F extends Family>(family: F): F {
    this.#families.push(family);
    return family;
  }

  /** The exposition text. */
  async metrics(): Promise<string> {
    const parts = await Promise.all(this.#families.map((family) => family.render()));
    return parts.join("");
  }
}
