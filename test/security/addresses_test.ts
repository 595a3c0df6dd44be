import { assertEquals } from "../helpers/assert.ts";
import { isPrivateAddress } from "../../src/security/addresses.ts";
import { hostAllowed } from "../../src/security/network.ts";

Deno.test("loopback, private, link-local, unique-local and unspecified addresses are private", () => {
  for (
    const address of [
      "127.0.0.1",
      "127.8.9.10",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::",
      "::1",
      "fe80::1",
      "fd00::1",
      "fc12:3456::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "[::1]",
      "224.0.0.1",
    ]
  ) assertEquals(isPrivateAddress(address), true, address);
});

Deno.test("IPv6 forms embedding a private IPv4 address are private: compatible, mapped, 6to4, Teredo, NAT64", () => {
  for (
    const address of [
      "::127.0.0.1",
      "::7f00:1",
      "::10.0.0.1",
      "::169.254.169.254",
      "::ffff:0:127.0.0.1",
      "2002:7f00:1::",
      "2002:a00:1:5::1",
      "2002:a9fe:a9fe::",
      "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
      "2001::3f57:fefe", // Teredo, client 192.168.1.1
      "64:ff9b::127.0.0.1",
      "64:ff9b::c0a8:101",
      "64:ff9b:1::8.8.8.8", // local-use NAT64
    ]
  ) assertEquals(isPrivateAddress(address), true, address);
});

Deno.test("public addresses are not private", () => {
  for (
    const address of [
      "8.8.8.8",
      "1.1.1.1",
      "172.32.0.1",
      "2606:4700::1111",
      "::ffff:8.8.8.8",
      "::8.8.8.8",
      "2002:808:808::1",
      "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, client 8.8.8.8
      "64:ff9b::8.8.8.8",
    ]
  ) {
    assertEquals(isPrivateAddress(address), false, address);
  }
});

Deno.test("--allow-host patterns match exact names and subdomains only", () => {
  const patterns = ["images.example.com", "*.cdn.example.net", "203.0.113.7"];
  assertEquals(hostAllowed("IMAGES.example.com", patterns), true);
  assertEquals(hostAllowed("a.cdn.example.net", patterns), true);
  assertEquals(hostAllowed("cdn.example.net", patterns), false);
  assertEquals(hostAllowed("evilcdn.example.net", patterns), false);
  assertEquals(hostAllowed("203.0.113.7", patterns), true);
  assertEquals(hostAllowed("example.com", patterns), false);
  assertEquals(hostAllowed("anything", []), true);
});
