/** What Telegram takes as a photo: up to 10 MB, width + height at most 10000, sides at most 20:1. */
export const PHOTO_LIMITS = { maxBytes: 10 * 1024 * 1024, maxSidesSum: 10_000, maxRatio: 20 };

/** Width and height from a JPEG's start-of-frame marker, or undefined when it is not a JPEG. */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  let off = 2;
  while (off + 9 < jpeg.length) {
    if (jpeg[off] !== 0xff) return undefined;
    const marker = jpeg[off + 1] as number;
    const len = ((jpeg[off + 2] as number) << 8) | (jpeg[off + 3] as number);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: ((jpeg[off + 5] as number) << 8) | (jpeg[off + 6] as number), width: ((jpeg[off + 7] as number) << 8) | (jpeg[off + 8] as number) };
    off += 2 + len;
  }
  return undefined;
}

/**
 * Why Telegram would refuse this picture as a photo, in words for the chat, or undefined when
 * it will take it. Checked before the upload, so a camera with a huge sensor costs no failed
 * upload and the alert still goes (as text).
 */
export function photoProblem(jpeg: Uint8Array): string | undefined {
  if (jpeg.length > PHOTO_LIMITS.maxBytes) return `the photo is ${(jpeg.length / 1024 / 1024).toFixed(1)} MB, more than Telegram's 10 MB`;
  const size = jpegSize(jpeg);
  if (size === undefined) return "the camera's picture is not a JPEG";
  const { width, height } = size;
  if (width === 0 || height === 0) return "the camera's picture has no size";
  if (width + height > PHOTO_LIMITS.maxSidesSum) return `the photo is ${width}x${height}, larger than Telegram takes`;
  if (Math.max(width / height, height / width) > PHOTO_LIMITS.maxRatio) return `the photo is ${width}x${height}, too narrow for Telegram`;
  return undefined;
}
