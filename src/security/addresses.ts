/**
 * Which IP addresses are private: loopback, link-local (cloud metadata at
 * 169.254.169.254 among them), private, unique-local, CGNAT, multicast,
 * reserved and unspecified ranges. Requests to these are refused unless the
 * operator opens them.
 *
 * @module
 */

/** IPv4 ranges as [first octets as a number, prefix length]. */
const V4_BLOCKED: [string, number][] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

function v4ToInt(address: string): number | undefined {
  const parts = address.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

function v4Blocked(n: number): boolean {
  return V4_BLOCKED.some(([base, bits]) => {
    const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
    return (n & mask) >>> 0 === (v4ToInt(base)! & mask) >>> 0;
  });
}

/** The eight 16-bit groups of an IPv6 address, or undefined. */
function v6Groups(address: string): number[] | undefined {
  let text = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToInt(v4[1]);
    if (n === undefined) return undefined;
    text = text.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * The IPv4 address an IPv6 address carries in a form some host may route to
 * it: IPv4-compatible `::a.b.c.d` (`::` and `::1` fall in 0.0.0.0/8),
 * IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`, NAT64
 * `64:ff9b::/96`, 6to4 `2002:AABB:CCDD::/48` and Teredo `2001:0::/32`
 * (whose client address is the last 32 bits inverted).
 */
function embeddedV4(g: number[]): number | undefined {
  const last = (g[6] * 65536 + g[7]) >>> 0;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 6)) return last;
  if (zeros(0, 5) && g[5] === 0xffff) return last;
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return last;
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return last;
  if (g[0] === 0x2002) return (g[1] * 65536 + g[2]) >>> 0;
  if (g[0] === 0x2001 && g[1] === 0) return ~last >>> 0;
  return undefined;
}

/** Whether `address` (IPv4 or IPv6 literal) is in a private or special range. */
export function isPrivateAddress(address: string): boolean {
  const v4 = v4ToInt(address);
  if (v4 !== undefined) return v4Blocked(v4);
  const g = v6Groups(address);
  if (!g) return true; // not an address we understand: refuse rather than guess
  const embedded = embeddedV4(g);
  if (embedded !== undefined) return v4Blocked(embedded);
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return true; // local-use NAT64 64:ff9b:1::/48
  if ((g[0] & 0xfe00) === 0xfc00) return true; // unique local fc00::/7
  if ((g[0] & 0xffc0) === 0xfe80) return true; // link-local fe80::/10
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  return false;
}

/** Whether a string is an IP literal (v4, or v6 with or without brackets). */
export function isIpLiteral(host: string): boolean {
  return v4ToInt(host) !== undefined || (host.includes(":") && v6Groups(host) !== undefined);
}
