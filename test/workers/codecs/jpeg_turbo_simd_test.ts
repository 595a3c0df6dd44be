/**
 * jpeg_turbo.wasm's hand-written SIMD (jpeg_turbo_simd.c: islow IDCT, fancy
 * upsampling, YCbCr to RGBA) is bit-exact: through decodeJpegScaled, every
 * JPEG photo of the corpus and a few made to reach the edge cases decode, at
 * full scale and at the scales thumbnails use, to exactly the pixels of
 * libjpeg-turbo's own C code. The reference is Debian's djpeg (the same
 * libjpeg-turbo 2.1.5) with its SIMD switched off (JSIMD_FORCENONE), which
 * runs the C functions the wasm build replaced; before the SIMD, the
 * committed wasm matched it on all of these.
 */
import type { Requirement } from "../../helpers/requirements.ts";
import { skipped } from "../../helpers/requirements.ts";
import { assertEquals } from "../../helpers/assert.ts";
import { tempDir } from "../../helpers/server.ts";
import { codecs } from "../../helpers/images.ts";
import { decodeJpegScaled } from "../../../workers/ops/jpeg_scaled.ts";

const PHOTOS = "/usr/share/backgrounds/mate";

/** libjpeg-turbo's command-line tools and the photos. */
const DJPEG: Requirement = {
  name: "djpeg",
  missing() {
    for (const path of ["/usr/bin/djpeg", "/usr/bin/cjpeg", `${PHOTOS}/nature/Aqua.jpg`]) {
      try {
        Deno.statSync(path);
      } catch {
        return `${path} is missing: test/setup.sh installs libjpeg-turbo-progs and mate-backgrounds`;
      }
    }
    return undefined;
  },
};

/** Eighths: full scale, then those the scaled decode of thumbnails and pyramids picks. */
const SCALES = [8, 4, 3, 2, 1];

/** The C code's pixels: djpeg's binary PPM, at n/8. */
async function reference(path: string, n: number): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const { code, stdout, stderr } = await new Deno.Command("djpeg", {
    args: ["-scale", `${n}/8`, "-pnm", path],
    env: { JSIMD_FORCENONE: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const header = new TextDecoder().decode(stdout.subarray(0, 32)).match(/^P6\s+(\d+)\s+(\d+)\s+255\s/);
  if (!header) throw new Error(`${path}: djpeg wrote no colour PPM`);
  return { width: Number(header[1]), height: Number(header[2]), rgb: stdout.subarray(header[0].length) };
}

/** Pixels of `rgba` that are not `rgb`'s colour, opaque. */
function countDiffering(rgba: Uint8ClampedArray, rgb: Uint8Array): number {
  let differing = 0;
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    if (rgba[i] !== rgb[j] || rgba[i + 1] !== rgb[j + 1] || rgba[i + 2] !== rgb[j + 2] || rgba[i + 3] !== 255) {
      differing++;
    }
  }
  return differing;
}

/** Decodes `path` at every scale and counts the bytes that differ from the C code's. */
async function assertExact(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  // djpeg runs beside the wasm decodes: the C code without SIMD is the slower half.
  const references = SCALES.map((n) => reference(path, n));
  // Every promise is awaited, also after a failed assertion.
  await using _ = { [Symbol.asyncDispose]: () => Promise.allSettled(references).then(() => {}) };
  for (const [k, n] of SCALES.entries()) {
    const expected = await references[k];
    const image = decodeJpegScaled(bytes, expected.width, expected.height);
    assertEquals([image.width, image.height, image.scale], [expected.width, expected.height, n / 8], path);
    const differing = countDiffering(image.data, expected.rgb);
    assertEquals(differing, 0, `${path} at ${n}/8: ${differing} pixels differ`);
  }
}

Deno.test({
  name: "every corpus JPEG photo, baseline and progressive, decodes to the C code's pixels at every scale",
  ignore: skipped(DJPEG),
  fn: async () => {
    await codecs();
    const photos = [];
    for (const folder of ["abstract", "desktop", "nature"]) {
      for (const entry of Deno.readDirSync(`${PHOTOS}/${folder}`)) {
        // Elephants_3840x2160 and _5640x3172 (progressive 4:2:2) take seconds each; the made-up files cover them.
        if (entry.name.endsWith(".jpg") && !entry.name.startsWith("Elephants_")) {
          photos.push(`${PHOTOS}/${folder}/${entry.name}`);
        }
      }
    }
    assertEquals(photos.length >= 13, true, `only ${photos.length} photos`);
    for (const photo of photos.sort()) await assertExact(photo);
  },
});

Deno.test({
  name: "odd sizes, every subsampling, quality 1 (16-bit tables) to 100 and flat blocks decode to the C code's pixels",
  ignore: skipped(DJPEG),
  fn: async () => {
    await codecs();
    await using dir = await tempDir();
    // Noise on the left (many AC terms, long codes), a flat field and a ramp on the right (DC-only blocks).
    const width = 333, height = 219;
    const pixels = new Uint8Array(width * height * 3);
    let seed = 2024;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          seed = (seed * 1103515245 + 12345) & 0x7fffffff;
          pixels[(y * width + x) * 3 + c] = x < 150 ? seed >> 23 : y < 100 ? 40 + 60 * c : (x + 2 * y + 50 * c) & 255;
        }
      }
    }
    const ppm = `${dir.path}/source.ppm`;
    await Deno.writeFile(
      ppm,
      new Uint8Array([...new TextEncoder().encode(`P6\n${width} ${height}\n255\n`), ...pixels]),
    );
    const variants = [
      ["-quality", "100", "-sample", "2x2"],
      ["-quality", "1", "-sample", "2x2"],
      ["-quality", "90", "-sample", "2x1"],
      ["-quality", "90", "-sample", "1x2"],
      ["-quality", "75", "-sample", "1x1"],
      ["-quality", "85", "-sample", "2x2", "-progressive"],
      ["-quality", "85", "-sample", "2x1", "-progressive"],
    ];
    for (const [i, args] of variants.entries()) {
      const path = `${dir.path}/${i}.jpg`;
      const { code, stderr } = await new Deno.Command("cjpeg", {
        args: [...args, "-outfile", path, ppm],
        stderr: "piped",
      })
        .output();
      assertEquals(code, 0, new TextDecoder().decode(stderr));
      await assertExact(path);
    }
  },
});
