/**
 * Several outputs of one source in one task: the source is decoded once
 * (the pixel pipeline's DECODE steps; an SVG's text prepared once, in the
 * render process) and each output is made from it (the RESIZE and ENCODE
 * steps, once per output), then handed off in order before the next is
 * encoded, so only one encoded result is held. A smaller output is made
 * from a larger one's scaled pixels where pyramid.ts allows it: those are
 * scaled first (ahead of their turn if they come later) and feed it before
 * they are encoded; the decoded source is freed once every output is
 * scaled. An animated source goes through its frames once instead
 * (animation/make_animated.ts).
 *
 * @module
 */
import type { MadeOutput, OutputOrder, StageTimes } from "../protocol/work.ts";
import { storeResult } from "./local_io.ts";
import { ownBuffer } from "../shared/bytes.ts";
import { plainFailure } from "./ops/failure.ts";
import { decodeSource, encodeOutput, type OutputImage, resizeOutput } from "./pipeline/mod.ts";
import { feedersOf, sourceOf } from "./pipeline/pyramid.ts";
import { StageTimer } from "./ops/timer.ts";
import type { Renderer } from "./renderer.ts";
import { release } from "./ops/release.ts";
import { makeAnimatedOutputs } from "./animation/make_animated.ts";

/** What making outputs needs from its worker. */
export interface OutputContext {
  /** Already holds the source's read time: counted on the first output. */
  timer: StageTimer;
  stopped: () => boolean;
  renderer: Renderer;
  /** The render process has the SVG: its time starts now. */
  rendering: () => void;
}

/**
 * Makes each output in order and passes it to `hand` as soon as it is
 * made. Throws when the whole source fails (decode, or an SVG that cannot
 * be drawn at all); outputs handed before that stand.
 */
export async function makeOutputs(
  bytes: Uint8Array,
  orders: OutputOrder[],
  context: OutputContext,
  hand: (index: number, made: MadeOutput) => void,
): Promise<void> {
  const plans = orders.map((o) => o.plan);
  if (plans[0].op === "rasterize") {
    let first = true;
    await context.renderer.renderOutputs(plans, bytes, context.rendering, (index, made) => {
      if ("message" in made) {
        hand(index, {
          ok: false,
          code: "DECODE_FAILED",
          message: `the image could not be processed: ${made.message}`,
          sound: true,
        });
        return;
      }
      const times = first ? { ...context.timer.times, ...made.times } : made.times;
      first = false;
      hand(index, store(orders[index], ownBuffer(made.bytes), times));
    });
    return;
  }
  if (plans[0].source.frames !== undefined) {
    await makeAnimatedOutputs(bytes, plans, context.timer, (index, made) => {
      hand(index, made.ok ? store(orders[index], made.bytes, made.times) : made);
    });
    return;
  }
  const source = await decodeSource(bytes, plans, context.timer);
  const feeders = feedersOf(plans, source.image);
  const timers = orders.map((_, i) => i === 0 ? context.timer : new StageTimer(context.stopped));
  // Each output's scaled pixels (or why they could not be made), kept from its resize to its encode.
  const scaled: (OutputImage | Error | undefined)[] = orders.map(() => undefined);
  const resize = async (index: number) => {
    const from = feeders[index];
    // A feeder after this output in the order is scaled now, ahead of its turn; one before it that is gone had
    // failed (it scales the outputs it feeds before its encode), and this one is made from the decoded source.
    if (from !== undefined && from > index && scaled[from] === undefined) await resize(from);
    const feeder = from === undefined ? undefined : scaled[from];
    const input = feeder === undefined || feeder instanceof Error ? source : sourceOf(feeder);
    try {
      scaled[index] = await resizeOutput(input, orders[index].plan, timers[index]);
    } catch (err) {
      scaled[index] = err as Error;
    }
  };
  for (const [index, order] of orders.entries()) {
    const { plan } = order;
    if (scaled[index] === undefined) await resize(index);
    // The outputs this one feeds that come later are scaled before its pixels are encoded and freed.
    for (const [fed, from] of feeders.entries()) {
      if (from === index && fed > index && scaled[fed] === undefined && !(scaled[index] instanceof Error)) {
        await resize(fed);
      }
    }
    // Once every output still to encode is scaled, the decoded source is needed only where it is one's pixels.
    const rest = scaled.slice(index);
    if (rest.every((o) => o instanceof Error || (o !== undefined && o.pixels!.data !== source.image.data))) {
      release(source.image.data);
    }
    const output = scaled[index]!;
    scaled[index] = undefined;
    let encoded: ArrayBuffer;
    try {
      if (output instanceof Error) throw output;
      encoded = await encodeOutput(output, timers[index]);
    } catch (err) {
      const plain = plainFailure(err, plan.source.format, plan.width * plan.height * 4);
      // The source decoded, so "corrupt data" would mislead: this output alone could not be made.
      const text = /memory/.test(plain)
        ? plain
        : `the ${plan.width}x${plan.height} ${plan.format} output could not be made`;
      hand(index, {
        ok: false,
        code: "DECODE_FAILED",
        message: `the image could not be processed: ${text}`,
        sound: false,
      });
      continue;
    }
    hand(index, store(order, encoded, timers[index].times));
  }
  release(source.image.data);
}

/** Stores an output at its `writeTo`, if it has one; an unwritable destination fails this output alone. */
function store(order: OutputOrder, bytes: ArrayBuffer, times: StageTimes): MadeOutput {
  const size = bytes.byteLength;
  if (order.writeTo === undefined) return { ok: true, bytes, size, times };
  try {
    return {
      ok: true,
      bytes: new ArrayBuffer(0),
      size,
      times: storeResult(order.writeTo, order.writeTemp, bytes, times),
    };
  } catch (err) {
    return { ok: false, code: "DESTINATION_NOT_WRITABLE", message: (err as Error).message, sound: true };
  }
}
