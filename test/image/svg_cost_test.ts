import { assertEquals, assertThrows } from "../helpers/assert.ts";
import { ImgserveError } from "../../protocol/error_codes.ts";
import { svgRenderCost } from "../../src/image/svg_cost.ts";
import { placeholderFor } from "../../src/image/placeholder.ts";

const svg = (body: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">${body}</svg>`;

Deno.test("embedded images are sized from their headers, however the href is written", async () => {
  const png = (await placeholderFor("png", 300, 200)).toBase64();
  const jpeg = (await placeholderFor("jpeg", 40, 10)).toBase64();
  const cost = svgRenderCost(
    svg(
      `<image href="data:image/png;base64,${png}"/>` +
        `<image xlink:href = '&#x64;ata:image/jpeg;base64,${jpeg.replace(/(.{10})/g, "$1\n")}'/>` +
        `<image href="https://example.com/x.png"/><use href="#a"/>`,
    ),
    100 * 100,
    1,
  );
  assertEquals(cost, { embeddedPixels: 300 * 200 + 40 * 10, filterPixels: 0 });
});

Deno.test("filters count once used: region times primitives plus one, capped at 4x4 canvases", () => {
  const blur = `<filter id="b"><feGaussianBlur stdDeviation="3"/><feOffset dx="1"/></filter>`;
  assertEquals(svgRenderCost(svg(blur), 10_000, 1).filterPixels, 0);
  assertEquals(svgRenderCost(svg(`${blur}<rect style="filter: url('#b')"/>`), 10_000, 1).filterPixels, 43_200);
  const huge = `<filter id="h" filterUnits="userSpaceOnUse" width="1e6" height="1e6"><feFlood/></filter>`;
  assertEquals(svgRenderCost(svg(`${huge}<g filter="url(#h)"/>`), 10_000, 1).filterPixels, 2 * 16 * 10_000);
});

Deno.test("an embedded image whose size cannot be read is refused", () => {
  const error = assertThrows(
    () => svgRenderCost(svg(`<image href="data:image/png;base64,AAAA"/>`), 10_000, 1),
    ImgserveError,
  );
  assertEquals(error.code, 205);
});
