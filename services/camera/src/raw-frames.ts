/**
 * Cuts a byte stream of fixed-size raw frames into frames. One reusable buffer: a frame is
 * valid only during the callback, so the motion path allocates nothing per frame.
 */
export class RawFrameSplitter {
  private readonly frame: Uint8Array;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new Error(`frame size must be a positive integer, not ${frameBytes}`);
    this.frame = new Uint8Array(frameBytes);
  }

  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      this.frame.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        this.filled = 0;
        onFrame(this.frame);
      }
    }
  }
}
