import type { VideoMeta } from "@picket/contracts";

/** One access unit as published: its metadata and its whole payload. */
export interface KeptUnit {
  meta: VideoMeta;
  data: Uint8Array;
}

/** A GOP longer than this is not kept whole (a source with rare keyframes): new watchers then wait. */
const MAX_BYTES = 8 * 1024 * 1024;
const MAX_UNITS = 600;

/**
 * The current group of pictures of one profile: the newest keyframe and every unit since, so
 * a new watcher (the stream service's first viewer) can start at once. Pure.
 */
export class GopKeeper {
  private units: KeptUnit[] = [];
  private bytes = 0;
  /** The current GOP outgrew the bounds: nothing to give until the next keyframe. */
  private overflowed = false;

  push(unit: KeptUnit): void {
    if (unit.meta.key) {
      this.units = [];
      this.bytes = 0;
      this.overflowed = false;
    } else if (this.overflowed || this.units.length === 0) {
      return; // no keyframe to start from
    }
    if (this.units.length >= MAX_UNITS || this.bytes + unit.data.length > MAX_BYTES) {
      this.units = [];
      this.bytes = 0;
      this.overflowed = true;
      return;
    }
    this.units.push(unit);
    this.bytes += unit.data.length;
  }

  /** The current GOP, keyframe first; empty when there is none to start from. */
  current(): readonly KeptUnit[] {
    return this.units;
  }

  clear(): void {
    this.units = [];
    this.bytes = 0;
    this.overflowed = false;
  }
}
