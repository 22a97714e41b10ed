/**
 * Camera sources, parsed from PICKET_CAMERA_SOURCE:
 *   test              an ffmpeg-generated scene with a person who walks in and out
 *   file:PATH         a video file, looped
 *   rtsp://… http://… an IP camera's H.264 stream, passed through without re-encoding
 *   v4l2:/dev/videoN  a USB or CSI camera through Video4Linux
 *   rpicam            the Raspberry Pi camera through rpicam-vid and its hardware encoder
 */
export type Source =
  | { kind: "test" }
  | { kind: "file"; path: string }
  | { kind: "url"; url: string }
  | { kind: "v4l2"; device: string }
  | { kind: "rpicam" };

export class SourceError extends Error {
  override readonly name = "SourceError";
}

/** Parses a source string; throws SourceError saying what is accepted. */
export function parseSource(raw: string): Source {
  const value = raw.trim();
  if (value === "test") return { kind: "test" };
  if (value === "rpicam") return { kind: "rpicam" };
  if (value.startsWith("file:")) {
    const path = value.slice(5);
    if (path === "" || path.startsWith("-") || /[\0\n\r]/.test(path)) throw new SourceError("file: needs a path (file:/videos/door.mp4)");
    return { kind: "file", path };
  }
  if (value.startsWith("v4l2:")) {
    const device = value.slice(5);
    if (!/^\/dev\/video\d{1,3}$/.test(device)) throw new SourceError("v4l2: needs a device like v4l2:/dev/video0");
    return { kind: "v4l2", device };
  }
  if (/^(rtsp|rtsps|http|https):\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new SourceError("not a valid URL");
    }
    if (url.hostname === "" || /[\s\0]/.test(value)) throw new SourceError("URL has no host");
    return { kind: "url", url: url.toString() };
  }
  throw new SourceError(`unknown source "${value.slice(0, 40)}": use test, file:PATH, rtsp://…, http://…, v4l2:/dev/videoN or rpicam`);
}

/** A URL with its password replaced, for logs. */
export function describeSource(source: Source): string {
  switch (source.kind) {
    case "url": {
      const u = new URL(source.url);
      if (u.password !== "") u.password = "***";
      return u.toString();
    }
    case "file":
      return `file:${source.path}`;
    case "v4l2":
      return `v4l2:${source.device}`;
    default:
      return source.kind;
  }
}

/** The file or device node a source reads, for the sources that have one. */
export function sourcePath(source: Source): string | undefined {
  if (source.kind === "file") return source.path;
  if (source.kind === "v4l2") return source.device;
  return undefined;
}

/**
 * Why the source cannot give a picture, when that can be seen without opening it: its file
 * or device node is missing. Undefined when it is there (or the source has no path).
 */
export function sourceMissing(source: Source, exists: (path: string) => boolean): string | undefined {
  if (source.kind === "file" && !exists(source.path)) return `the source file ${source.path} is missing`;
  if (source.kind === "v4l2" && !exists(source.device)) return `the camera device ${source.device} is gone (unplugged?)`;
  return undefined;
}
