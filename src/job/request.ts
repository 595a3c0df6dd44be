/**
 * JSON body → a validated {@linkcode JobRequest}, or a typed error with its
 * code. Everything a client sends is checked here, once; code past this
 * point trusts the types.
 *
 * @module
 */
import { ImgserveError } from "../../protocol/error_codes.ts";
import { checkNameText, checkTags, withTagsStoodIn } from "./template.ts";
import type { Operation } from "../../protocol/plan.ts";
import { type JobArgs, parseJobArgs } from "./job_args.ts";

/** One result of a job: where it goes and how it is made. */
export interface OutputRequest {
  /** dstURL as sent, tags not yet substituted. */
  dstTemplate: string;
  args: JobArgs;
}

/** A validated request. */
export interface JobRequest {
  operationType: Operation;
  srcURL: URL;
  /** One entry for the `dstURL`+`args` form, 1 to {@linkcode MAX_OUTPUTS} for the `outputs` form. */
  outputs: OutputRequest[];
  /** Sent with `outputs`: the reply and the job's status list every output. */
  multi: boolean;
  /** Optional URL told of the outcome. */
  callbackURL?: URL;
}

/** Most outputs one job may have. */
export const MAX_OUTPUTS = 16;

const OPERATIONS: readonly Operation[] = ["resize", "rasterize"];
/**
 * Checks a parsed JSON body.
 *
 * @example
 * ```ts
 * const job = parseJobRequest({ operationType: "resize", srcURL: "http://h/a.png",
 *   dstURL: "file:///tmp/{$basename}.png", args: { width: 200 } }, 16384);
 * ```
 */
export function parseJobRequest(body: unknown, maxSide: number): JobRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ImgserveError("WRONG_TYPE", "the request body must be a JSON object");
  }
  const record = body as Record<string, unknown>;
  const multi = "outputs" in record;
  if (multi && ("dstURL" in record || "args" in record)) {
    throw new ImgserveError(
      "BOTH_FORMS",
      `the request has "outputs" and also "${
        "dstURL" in record ? "dstURL" : "args"
      }"; send either dstURL and args, or outputs`,
    );
  }
  for (const key of ["operationType", "srcURL", ...(multi ? [] : ["dstURL", "args"])]) {
    if (!(key in record)) throw new ImgserveError("MISSING_KEY", `the request has no "${key}" key`);
  }
  const { operationType, srcURL, callbackURL } = record;
  if (typeof operationType !== "string") {
    throw new ImgserveError("WRONG_TYPE", `"operationType" must be a string`);
  }
  if (!OPERATIONS.includes(operationType as Operation)) {
    throw new ImgserveError(
      "UNKNOWN_OPERATION",
      `operationType "${operationType.slice(0, 40)}" is not known; use "resize" or "rasterize"`,
    );
  }
  if (typeof srcURL !== "string") throw new ImgserveError("WRONG_TYPE", `"srcURL" must be a string`);
  if (callbackURL !== undefined && typeof callbackURL !== "string") {
    throw new ImgserveError("WRONG_TYPE", `"callbackURL" must be a string`);
  }
  const op = operationType as Operation;
  const outputs = multi
    ? parseOutputs(record.outputs, op, maxSide)
    : [parseOutput(record.dstURL, record.args, op, maxSide, "")];
  return {
    operationType: op,
    srcURL: parseUrl("srcURL", srcURL),
    outputs,
    multi,
    callbackURL: callbackURL === undefined ? undefined : parseCallbackUrl(callbackURL),
  };
}

function parseOutputs(value: unknown, op: Operation, maxSide: number): OutputRequest[] {
  if (!Array.isArray(value)) throw new ImgserveError("WRONG_TYPE", `"outputs" must be a JSON array`);
  if (value.length === 0 || value.length > MAX_OUTPUTS) {
    throw new ImgserveError(
      "OUTPUTS_COUNT",
      `"outputs" has ${value.length} entries; a job takes 1 to ${MAX_OUTPUTS}`,
    );
  }
  const outputs = value.map((entry, i) => {
    const at = `outputs[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ImgserveError("WRONG_TYPE", `${at} must be a JSON object with "dstURL" and "args"`);
    }
    for (const key of Object.keys(entry)) {
      if (key !== "dstURL" && key !== "args") {
        throw new ImgserveError("BAD_ARGS", `${at}.${key.slice(0, 40)} is not known; an output has dstURL and args`);
      }
    }
    for (const key of ["dstURL", "args"]) {
      if (!(key in entry)) throw new ImgserveError("MISSING_KEY", `${at} has no "${key}" key`);
    }
    return parseOutput(entry.dstURL, entry.args, op, maxSide, `${at}.`);
  });
  // The source is decoded once for every output, so one answer to "is it damaged?" and "which page?" must serve them all.
  for (const key of ["failOn", "page"] as const) {
    const disagreeing = outputs.findIndex((o) => o.args[key] !== outputs[0].args[key]);
    if (disagreeing > 0) {
      throw new ImgserveError(
        "BAD_ARGS",
        `outputs[${disagreeing}].args.${key} is ${JSON.stringify(outputs[disagreeing].args[key] ?? null)} but ` +
          `outputs[0]'s is ${JSON.stringify(outputs[0].args[key] ?? null)}; the source is decoded once for all ` +
          `outputs, so give every output the same ${key}`,
      );
    }
  }
  return outputs;
}

/**
 * One destination and its args; `at` ("outputs[2]." or "") starts every
 * message, so an error names the output it is about.
 */
function parseOutput(dstURL: unknown, args: unknown, op: Operation, maxSide: number, at: string): OutputRequest {
  return atOutput(at, () => {
    if (typeof dstURL !== "string") throw new ImgserveError("WRONG_TYPE", `"dstURL" must be a string`);
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      throw new ImgserveError("WRONG_TYPE", `"args" must be a JSON object`);
    }
    checkTags(dstURL);
    // The template must already be a URL with a scheme, tags aside.
    const url = parseUrl("dstURL", withTagsStoodIn(dstURL));
    const parsed = parseJobArgs(args as Record<string, unknown>, op, maxSide);
    if (parsed.s3 && url.protocol !== "s3:") {
      throw new ImgserveError("BAD_ARGS", `args.s3 applies to s3:// destinations, not ${url.protocol}`);
    }
    return { dstTemplate: dstURL, args: parsed };
  });
}

/**
 * Runs `check`, putting `at` (an output's place, such as "outputs[2].") in
 * front of the message of any ImgserveError it throws or rejects with; ""
 * changes nothing.
 *
 * @example
 * ```ts
 * atOutput("outputs[1].", () => checkTags("file:///{$foo}")); // "outputs[1].dstURL has an unknown tag {$foo} ..."
 * ```
 */
export function atOutput<T>(at: string, check: () => T): T {
  if (at === "") return check();
  const named = (err: unknown): never => {
    if (!(err instanceof ImgserveError)) throw err;
    const message = err.message.replace(/^"?(dstURL|args)\b"?/, (_, key) => `${at}${key}`);
    throw new ImgserveError(err.name, message.startsWith(at) ? message : `${at.slice(0, -1)}: ${message}`, {
      cause: err,
    });
  };
  try {
    const result = check();
    return (result instanceof Promise ? result.catch(named) : result) as T;
  } catch (err) {
    return named(err);
  }
}

/** Longest callbackURL: it is journaled with the job and sent with every attempt. */
export const MAX_CALLBACK_URL_LENGTH = 2048;

function parseUrl(key: string, value: string): URL {
  checkNameText(key, value);
  try {
    const url = new URL(value);
    return url;
  } catch {
    throw new ImgserveError("BAD_URL", `${key} "${value.slice(0, 200)}" is not an absolute URL`);
  }
}

/** The callbackURL's own rules; its host is checked by the network guard when the job is accepted. */
function parseCallbackUrl(value: string): URL {
  if (value.length > MAX_CALLBACK_URL_LENGTH) {
    throw new ImgserveError(
      "BAD_URL",
      `callbackURL is ${value.length} characters, over the limit of ${MAX_CALLBACK_URL_LENGTH}`,
    );
  }
  const url = parseUrl("callbackURL", value);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImgserveError("UNSUPPORTED_SCHEME", `callbackURL must be http: or https:, not ${url.protocol}`);
  }
  return url;
}
