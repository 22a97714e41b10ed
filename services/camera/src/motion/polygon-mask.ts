import type { MotionSettings, Polygon } from "@picket/contracts";

/**
 * Even-odd point-in-polygon test (a horizontal ray to the right crosses the outline an odd
 * number of times). The point and the polygon share units. A point exactly on a left or
 * bottom edge counts as inside, on a right or top edge as outside, so polygons that share an
 * edge never both claim a point.
 */
export function pointInPolygon(x: number, y: number, polygon: readonly (readonly [number, number])[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < xi + ((y - yi) * (xj - xi)) / (yj - yi)) inside = !inside;
  }
  return inside;
}

/**
 * Sets `out[y * width + x] = 1` for every pixel whose centre ((x + 0.5) / width,
 * (y + 0.5) / height) lies inside `polygon` (frame fractions) by the even-odd rule; leaves the
 * other pixels as they are, so several polygons can be drawn into one bitmap. Scanline
 * rasterisation: exactly the pixels {@link pointInPolygon} accepts, in O(rows × edges + pixels).
 */
export function rasterizePolygon(polygon: Polygon, width: number, height: number, out: Uint8Array): void {
  const crossings: number[] = [];
  for (let y = 0; y < height; y++) {
    const yc = (y + 0.5) / height;
    crossings.length = 0;
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const [xi, yi] = polygon[i]!;
      const [xj, yj] = polygon[j]!;
      if (yi > yc !== yj > yc) crossings.push(xi + ((yc - yi) * (xj - xi)) / (yj - yi));
    }
    crossings.sort((a, b) => a - b);
    // A centre xc is inside when crossings[2k] <= xc < crossings[2k + 1].
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      const from = Math.max(0, Math.ceil(crossings[k]! * width - 0.5));
      const to = Math.min(width, Math.ceil(crossings[k + 1]! * width - 0.5));
      if (to > from) out.fill(1, y * width + from, y * width + to);
    }
  }
}

/** Where a detector looks, on its analysis grid (one cell = a `factor` × `factor` block of pixels). */
export interface WatchRegions {
  /** 1 where the cell is outside every mask (used for light and noise estimates). */
  unmasked: Uint8Array;
  /** 1 where changes count: unmasked and, with zones, inside some zone. */
  watched: Uint8Array;
  /** Bit z set when the cell belongs to zone z (settings order). */
  zoneBits: Uint16Array;
  unmaskedCount: number;
  watchedCount: number;
  zoneNames: string[];
}

/**
 * Rasterises masks and zones at full resolution (pixel centres), then reduces them to the
 * analysis grid of `gridWidth` × `gridHeight` cells of `factor` × `factor` pixels. A cell with
 * any masked pixel is masked (a mask never leaks movement from its edge); a cell with any
 * pixel in a zone belongs to that zone.
 */
export function buildWatchRegions(settings: MotionSettings, width: number, height: number, factor: number, gridWidth: number, gridHeight: number): WatchRegions {
  const cells = gridWidth * gridHeight;
  const unmasked = new Uint8Array(cells).fill(1);
  const zoneBits = new Uint16Array(cells);
  const pixels = new Uint8Array(width * height);
  const reduce = (visit: (cell: number) => void) => {
    for (let gy = 0; gy < gridHeight; gy++) {
      for (let gx = 0; gx < gridWidth; gx++) {
        let any = false;
        for (let dy = 0; dy < factor && !any; dy++) {
          const row = (gy * factor + dy) * width + gx * factor;
          for (let dx = 0; dx < factor; dx++) if (pixels[row + dx] === 1) any = true;
        }
        if (any) visit(gy * gridWidth + gx);
      }
    }
  };
  if (settings.masks.length > 0) {
    for (const mask of settings.masks) rasterizePolygon(mask, width, height, pixels);
    reduce((cell) => (unmasked[cell] = 0));
  }
  settings.zones.forEach((zone, z) => {
    pixels.fill(0);
    rasterizePolygon(zone.polygon, width, height, pixels);
    reduce((cell) => (zoneBits[cell] = zoneBits[cell]! | (1 << z)));
  });
  const watched = new Uint8Array(cells);
  let unmaskedCount = 0;
  let watchedCount = 0;
  const zoned = settings.zones.length > 0;
  for (let i = 0; i < cells; i++) {
    if (unmasked[i] === 0) continue;
    unmaskedCount++;
    if (!zoned || zoneBits[i] !== 0) {
      watched[i] = 1;
      watchedCount++;
    }
  }
  return { unmasked, watched, zoneBits, unmaskedCount, watchedCount, zoneNames: settings.zones.map((z) => z.name) };
}
