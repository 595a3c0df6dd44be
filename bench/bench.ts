/**
 * `deno task bench`: not written yet. It will drive `imgserve run` over
 * HTTP with real photos and compare against the straightforward pipeline.
 */
console.log("bench: not implemented yet");
Deno.exit(1);
