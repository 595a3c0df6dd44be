/**
 * Several outputs of one source in one task: the source is decoded once
 * (the pixel pipeline's DECODE steps; an SVG's text prepared once, in the
 * render process) and each output is made from it (the RESIZE and ENCODE
 * steps, once per output), then handed off before the next is made, so
 * only one encoded result is held. An animated source goes through its
 * frames once instead (animation/make_animated.ts).
 *
 * @module
 */
import type { MadeOutput, OutputOrder, StageTimes } from "../protocol/work.ts";
import { storeResult } from "./local_io.ts";
import { ownBuffer } from "../shared/bytes.ts";
import { plainFailure } from "./ops/failure.ts";
import { decodeSource, makeOutput } from "./pipeline/mod.ts";
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
  for (const [index, order] of orders.entries()) {
    const { plan } = order;
    const timer = index === 0 ? context.timer : new StageTimer(context.stopped);
    let encoded: ArrayBuffer;
    try {
      encoded = await makeOutput(source, plan, timer);
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
    hand(index, store(order, encoded, timer.times));
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
