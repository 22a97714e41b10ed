// Types for the parts of mux.js (which ships none) that fmp4.ts uses. No exported type of
// this package mentions them, so its declarations need none of this.

declare module "mux.js/lib/mp4/mp4-generator.js" {
  /** The sample flags of a `trun` entry (ISO/IEC 14496-12 8.8.3.1). */
  export interface SampleFlags {
    isLeading: number;
    /** 2: depends on no other sample (an IDR frame); 1: depends on others. */
    dependsOn: number;
    isDependedOn: number;
    hasRedundancy: number;
    paddingValue: number;
    isNonSyncSample: number;
    degradationPriority: number;
  }

  export interface Sample {
    /** In the track's timescale (90 kHz). */
    duration: number;
    size: number;
    flags: SampleFlags;
    compositionTimeOffset: number;
  }

  /** A video track as the generator reads it; sps and pps go into the avcC box. */
  export interface VideoTrack {
    id: number;
    type: "video";
    width: number;
    height: number;
    sps: Uint8Array[];
    pps: Uint8Array[];
    profileIdc: number;
    profileCompatibility: number;
    levelIdc: number;
    /** Start of the fragment in the timescale; used by `moof`. */
    baseMediaDecodeTime?: number;
    samples?: Sample[];
  }

  const generator: {
    /** `ftyp` and `moov` (with `mvex`), 90 kHz timescale, indefinite duration. */
    initSegment(tracks: VideoTrack[]): Uint8Array;
    /** A `moof` whose `trun` data offset assumes an `mdat` follows it directly. */
    moof(sequenceNumber: number, tracks: VideoTrack[]): Uint8Array;
    mdat(data: Uint8Array): Uint8Array;
  };
  export default generator;
}

declare module "mux.js/lib/codecs/h264.js" {
  /** Splits an Annex-B byte stream into NAL units (without start codes), as `data` events. */
  export class NalByteStream {
    on(event: "data", listener: (nal: Uint8Array) => void): void;
    push(chunk: { data: Uint8Array }): void;
    /** Emits the last NAL unit held back and resets the stream. */
    flush(): void;
  }
}
