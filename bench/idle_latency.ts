/**
 * Reply latency on an idle server: one job at a time, each posted only
 * after the previous one has finished, so nothing else competes.
 *
 * @module
 */
import { finished } from "./load.ts";

/** Posts `count` resize jobs for `source` one after another; returns each reply's latency in ms. */
export async function idleReplyLatency(
  base: string,
  source: string,
  dstURL: string,
  count: number,
  format = "jpeg",
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const posted = performance.now();
    const response = await fetch(`${base}/`, {
      method: "POST",
      body: JSON.stringify({
        operationType: "resize",
        srcURL: `file://${source}`,
        dstURL,
        args: { width: 200, height: 120, format },
      }),
      headers: { "content-type": "application/json" },
    });
    const reply = await response.json();
    samples.push(performance.now() - posted);
    if (response.status !== 202) throw new Error(`the idle-latency job was refused: ${JSON.stringify(reply)}`);
    await finished(base, reply.id);
  }
  return samples;
}
