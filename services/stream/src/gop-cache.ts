import type { CachedFrame } from "@picket/contracts";

/**
 * The current group of pictures: the newest keyframe and every frame after it, so a viewer
 * who joins now gets a picture at once instead of waiting for the next keyframe. Bounded in
 * bytes; past the bound it empties until the next keyframe.
 */
export class GopCache {
  private frames: CachedFrame[] = [];
  private bytes = 0;
  private overflowed = false;

  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}

  push(frame: CachedFrame): void {
    if (frame.key) {
      this.frames = [];
      this.bytes = 0;
      this.overflowed = false;
    } else if (this.frames.length === 0 || this.overflowed) {
      return; // nothing decodable to append to
    }
    if (this.bytes + frame.wire.length > this.maxBytes) {
      this.frames = [];
      this.bytes = 0;
      this.overflowed = true;
      return;
    }
    this.frames.push(frame);
    this.bytes += frame.wire.length;
  }

  /** Frames from the newest keyframe on; empty when none is held. */
  snapshot(): readonly CachedFrame[] {
    return this.frames;
  }

  clear(): void {
    this.frames = [];
    this.bytes = 0;
  }

  get size(): { frames: number; bytes: number } {
    return { frames: this.frames.length, bytes: this.bytes };
  }
}
