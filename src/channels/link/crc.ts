// CRC-32/ISO-HDLC (the zlib / Ethernet / PNG CRC): poly 0x04C11DB7 reflected (0xEDB88320), init 0xFFFFFFFF,
// xorout 0xFFFFFFFF. Check value: crc32("123456789") = 0xCBF43926. Node's zlib computes it natively.
import { crc32 as zlibCrc32 } from "node:zlib";

if (typeof zlibCrc32 !== "function") {
  throw new Error("needled's link protocol needs zlib.crc32 (Node.js 20.15 or newer)");
}

export function crc32(data: Uint8Array): number {
  return zlibCrc32(data) >>> 0;
}
