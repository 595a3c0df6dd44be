import { assertEquals } from "../helpers/assert.ts";
import { countJpegScans, isStartOfFrame, type JpegSegment, walkJpegSegments } from "../../shared/jpeg_segments.ts";
import { tempDir } from "../helpers/server.ts";
import { tool } from "../helpers/tools.ts";
import { repeatedScans } from "../helpers/hostile.ts";

const DUNE = "/usr/share/backgrounds/mate/nature/Dune.jpg";
const GREEN = "/usr/share/backgrounds/mate/desktop/GreenTraditional.jpg";

/** Each segment as "marker@offset+length", in hex for the marker. */
function walk(bytes: Uint8Array, stopAt?: (segment: JpegSegment) => boolean) {
  const found: string[] = [];
  const end = walkJpegSegments(bytes, (segment) => {
    found.push(`${segment.marker.toString(16)}@${segment.at}+${segment.length}`);
    return stopAt?.(segment);
  });
  return { found, end };
}

Deno.test("a real photo's segments are found in file order up to its image data", async () => {
  const bytes = await Deno.readFile(DUNE);
  assertEquals(walk(bytes), {
    found: [
      "e0@2+16",
      "e1@20+7980",
      "db@8002+67",
      "db@8071+67",
      "c0@8140+17",
      "c4@8159+30",
      "c4@8191+99",
      "c4@8292+30",
      "c4@8324+98",
    ],
    end: "image-data",
  });
  assertEquals(walk(await Deno.readFile(GREEN)).found, [
    "e0@2+16",
    "fe@20+19",
    "db@41+67",
    "db@110+67",
    "c0@179+17",
    "c4@198+29",
    "c4@229+82",
    "c4@313+27",
    "c4@342+52",
  ]);
});

Deno.test("a visitor stops the walk at the frame header, as the header reader does", async () => {
  const bytes = await Deno.readFile(DUNE);
  let frame: JpegSegment | undefined;
  const { found, end } = walk(bytes, (segment) => {
    if (isStartOfFrame(segment.marker)) frame = segment;
    return frame !== undefined;
  });
  assertEquals(end, "stopped");
  assertEquals(found.at(-1), "c0@8140+17");
  // SOF0 payload: precision 8, height 1050, width 1680 (as identify says), 3 components.
  assertEquals([...frame!.body.subarray(0, 6)], [8, 0x04, 0x1a, 0x06, 0x90, 3]);
  assertEquals(frame!.body.length, 15);
});

Deno.test("a prefix ends the walk as truncated, the last segment's payload cut where the bytes end", async () => {
  const bytes = (await Deno.readFile(DUNE)).subarray(0, 100);
  const bodies: number[] = [];
  const end = walkJpegSegments(bytes, (segment) => void bodies.push(segment.body.length));
  assertEquals(end, "truncated");
  // APP0 whole (14 bytes), APP1 (7978 bytes declared) cut to what the prefix holds.
  assertEquals(bodies, [14, 76]);
});

Deno.test("fill bytes and standalone markers are skipped; a byte where a marker must be ends the walk", () => {
  const bytes = new Uint8Array([
    0xff,
    0xd8, // SOI
    0xff,
    0xff,
    0xff,
    0xe0,
    0x00,
    0x04,
    0xaa,
    0xbb, // fill bytes, then APP0 with two payload bytes
    0xff,
    0xd0,
    0xff,
    0x01, // RST0, TEM
    0xff,
    0xee,
    0x00,
    0x02, // APP14 with no payload
    0x12,
    0x34,
    0x56,
    0x78, // not a marker
  ]);
  assertEquals(walk(bytes), { found: ["e0@4+4", "ee@14+2"], end: "no-marker" });
  const scan = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x02, 0xff, 0xda, 0x00, 0x0c]);
  assertEquals(walk(scan), { found: ["e0@2+2"], end: "image-data" });
});

Deno.test("frame headers are SOF0 to SOF15 but DHT, JPG and DAC", () => {
  const sof = Array.from({ length: 256 }, (_, m) => m).filter(isStartOfFrame);
  assertEquals(sof.map((m) => m.toString(16)), [
    "c0",
    "c1",
    "c2",
    "c3",
    "c5",
    "c6",
    "c7",
    "c9",
    "ca",
    "cb",
    "cd",
    "ce",
    "cf",
  ]);
});

Deno.test("scans are counted past stuffed and restart bytes, up to EOI or a stop", async () => {
  await using dir = await tempDir();
  // Restart markers every row and a photo's 0xFF bytes in the data: none of them starts a scan.
  await tool("convert", [
    DUNE,
    "-strip",
    "-resize",
    "320x200",
    "-interlace",
    "JPEG",
    "-define",
    "jpeg:restart-interval=1",
    `${dir.path}/p.jpg`,
  ]);
  const progressive = await Deno.readFile(`${dir.path}/p.jpg`);
  assertEquals(countJpegScans(await Deno.readFile(DUNE)), 1);
  assertEquals(countJpegScans(progressive), 10);
  assertEquals(countJpegScans(repeatedScans(progressive, 500)), 510);
  assertEquals(countJpegScans(repeatedScans(progressive, 500), 100), 101);
  // A prefix holds the scans that began in it.
  const firstScan = progressive.findIndex((b, i) => b === 0xff && progressive[i + 1] === 0xda);
  assertEquals(countJpegScans(progressive.subarray(0, firstScan + 20)), 1);
});
