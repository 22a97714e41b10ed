// Test-only helpers of the bot's unit tests.

/** The head of a baseline JPEG of that size: SOI, then a start-of-frame segment. */
export function jpegHead(width: number, height: number, pad = 0): Buffer {
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.alloc(pad), Buffer.from([0xff, 0xd9])]);
}
