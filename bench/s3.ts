/**
 * The bench's S3 row: the thumbnail corpus from and to a real Ceph RADOS
 * Gateway on loopback (the test suite's, test/fixtures/rgw.ts) against the
 * same jobs from and to file://, on one server, taking turns, one client
 * at a time, so the difference per job is what s3:// costs: the SDK's
 * signing, the HEAD-less GET, the placeholder PUT (with its copy-aside
 * check), the result PUT and the gateway's own time.
 *
 * @module
 */
import type { CorpusImage } from "./corpus.ts";
import { type JobSpec, type LoadResult, runLoad } from "./load.ts";
import { startServerProcess } from "./server_process.ts";
import { RGW, RGW_KEYS, testBucket } from "../test/fixtures/rgw.ts";

/** One turn of each kind, and what it comes to per job. */
export interface S3Row {
  photos: number;
  turns: { file: LoadResult[]; s3: LoadResult[] };
  /** Mean ms per job over the turns (one client: 1000 / jobs per second). */
  fileMs: number;
  s3Ms: number;
  /** s3Ms - fileMs. */
  overheadMs: number;
}

/** Options of {@linkcode compareS3}. */
export interface S3Options {
  /** Seconds of each turn. */
  seconds: number;
  /** Turns of each kind, alternating. */
  turns: number;
  /** Scratch folder for the file:// results and the journal. */
  work: string;
  flags: string[];
  checkout?: string;
}

/** Why the row cannot run here, or undefined when it can. */
export function s3Unavailable(): string | undefined {
  return RGW.missing();
}

/**
 * The corpus's photos as 200x120 JPEG thumbnails, file:// to file:// and
 * s3:// to s3://, on one server with the default workers.
 */
export async function compareS3(photos: CorpusImage[], options: S3Options): Promise<S3Row> {
  await using bucket = await testBucket();
  for (const photo of photos) await bucket.put(`in/${photo.name}`, await Deno.readFile(photo.path), "image/jpeg");
  const args = { width: 200, height: 120, mode: "cover", format: "jpeg", quality: 80 };
  const jobsOf = (src: (p: CorpusImage) => string, dst: (p: CorpusImage) => string): JobSpec[] =>
    photos.map((p) => ({
      body: { operationType: "resize", srcURL: src(p), dstURL: dst(p), args },
      megapixels: p.width * p.height / 1e6,
    }));
  const outDir = `${options.work}/s3-out`;
  await Deno.mkdir(outDir, { recursive: true });
  const fileJobs = jobsOf((p) => `file://${p.path}`, (p) => `file://${outDir}/{slot}-${p.name}.jpg`);
  const s3Jobs = jobsOf((p) => bucket.url(`in/${p.name}`), (p) => bucket.url(`out/{slot}-${p.name}.jpg`));
  // The server reads its credentials from the environment, as a deployment would.
  Deno.env.set("AWS_ACCESS_KEY_ID", RGW_KEYS.accessKeyId);
  Deno.env.set("AWS_SECRET_ACCESS_KEY", RGW_KEYS.secretAccessKey);
  await using server = await startServerProcess({
    fileRoots: ["/usr/share/backgrounds", outDir],
    flags: [...options.flags, ...bucket.flags],
    checkout: options.checkout,
  });
  const turn = (jobs: JobSpec[], seconds = options.seconds) =>
    runLoad({ base: server.base, jobs, concurrency: 1, durationMs: seconds * 1000, warmupMs: 1000 });
  // A short untimed run loads the SDK and warms both paths.
  await turn([...s3Jobs.slice(0, 2), ...fileJobs.slice(0, 2)], 3);
  const turns = { file: [] as LoadResult[], s3: [] as LoadResult[] };
  for (let i = 0; i < options.turns; i++) {
    turns.file.push(await turn(fileJobs));
    turns.s3.push(await turn(s3Jobs));
  }
  const msPerJob = (results: LoadResult[]) =>
    results.reduce((sum, r) => sum + 1000 / r.windowJobsPerSecond, 0) / results.length;
  const fileMs = msPerJob(turns.file);
  const s3Ms = msPerJob(turns.s3);
  return { photos: photos.length, turns, fileMs, s3Ms, overheadMs: s3Ms - fileMs };
}
