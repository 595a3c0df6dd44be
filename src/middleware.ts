/**
 * Hono's bearer-auth and body-limit, wrapped so a refusal is an
 * {@linkcode ImgserveError} and gets the same JSON body as every other error.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ImgserveError } from "../protocol/error_codes.ts";

/**
 * Needs `Authorization: Bearer <token>` on every request but `GET /healthz`
 * (probes carry no secrets) and `GET /ui` (the dashboard's page holds no
 * data; what it reads keeps the rule). Hono compares the token in constant time
 * (SHA-256 of both sides, then a constant-time string compare).
 *
 * @example
 * ```ts
 * app.use("*", requireToken("s3cret"));
 * ```
 */
export function requireToken(token: string): MiddlewareHandler {
  const check = bearerAuth({ token, realm: "imgserve" });
  return async (c, next) => {
    if (c.req.method === "GET" && (c.req.path === "/healthz" || c.req.path === "/ui")) return await next();
    try {
      await check(c, next);
    } catch (err) {
      // Hono answers a malformed header with 400; we keep one answer, 401, for every refusal.
      if (!(err instanceof HTTPException) || (err.status !== 401 && err.status !== 400)) throw err;
      c.header("WWW-Authenticate", 'Bearer realm="imgserve"');
      const header = c.req.header("authorization");
      if (header === undefined) {
        throw new ImgserveError("UNAUTHORIZED", "this server needs an Authorization: Bearer <token> header");
      }
      if (!/^Bearer\s/i.test(header)) {
        throw new ImgserveError("UNAUTHORIZED", 'the Authorization header must be "Bearer <token>"');
      }
      throw new ImgserveError("UNAUTHORIZED", "the bearer token is wrong");
    }
  };
}

/**
 * Refuses a body over `maxBytes`, whether its Content-Length says so or the
 * stream turns out longer.
 *
 * @example
 * ```ts
 * app.post("/", limitBody(1 << 20), handler);
 * ```
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ImgserveError("BODY_TOO_LARGE", `the request body is over the limit of ${maxBytes} bytes`);
    },
  });
}
