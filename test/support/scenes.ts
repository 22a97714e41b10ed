// Synthetic camera scenes with ground truth, rendered by the real ffmpeg (lavfi sources and
// filters) as the raw gray frames the camera service hands its motion detector.
import { spawn } from "node:child_process";
import type { MotionSettings } from "@picket/contracts";

export type SceneKind = "object" | "light" | "noise" | "masked" | "empty";

/** Someone in view: a figure of `w` × `h` pixels whose top-left corner moves linearly between the path's points. */
export interface Walker {
  w: number;
  h: number;
  path: { t: number; x: number; y: number }[];
}

/** How a scene is drawn (see renderScene). Brightness and contrast are ffmpeg `eq` expressions of t. */
export interface SceneSpec {
  walkers: Walker[];
  /** Temporal sensor noise, ffmpeg `noise` strength (8 ≈ σ 5 grey levels). */
  noise: number;
  light?: { brightness: string; contrast: string; gamma?: string };
  /** While this expression of t is non-zero, a lamp near the bottom left adds a glow that fades across the frame. */
  glow?: string;
  /** From this time the colour goes (the camera's IR-cut filter opens at dusk). */
  irFromS?: number;
  /** Something that sways all the time at this place (pixels): a branch in the wind. */
  branch?: { x: number; y: number };
}

export interface Scene {
  name: string;
  kind: SceneKind;
  description: string;
  durationS: number;
  fps: number;
  width: number;
  height: number;
  /** Intervals (seconds from start) when a person is present: what presence detection should find. */
  truth: { fromS: number; toS: number }[];
  /** When a PIR would fire (seconds); light scenes include a spurious heat pulse (sun) to test fusion; empty/noise none. */
  pirPulses: { atS: number; durationS: number }[];
  settings: MotionSettings;
  spec: SceneSpec;
}

const WIDTH = 320;
const HEIGHT = 180;
const FPS = 5;
/** A person near the camera: 1/8 of the width, 1/2 of the height. */
const PERSON = { w: 40, h: 90 };
/** The same person far away. */
const FAR_PERSON = { w: 18, h: 40 };
const defaults: MotionSettings = { sensitivity: 5, masks: [], zones: [] };

/** Times when some part of a walker is inside the frame, to 0.01 s. */
function presence(walkers: Walker[], width: number, height: number): Scene["truth"] {
  const at = (w: Walker, t: number) => {
    const p = w.path;
    if (t < p[0]!.t || t > p[p.length - 1]!.t) return undefined;
    let k = 0;
    while (k < p.length - 2 && t > p[k + 1]!.t) k++;
    const [a, b] = [p[k]!, p[k + 1]!];
    const f = b.t === a.t ? 0 : (t - a.t) / (b.t - a.t);
    return { x: Math.round(a.x + (b.x - a.x) * f), y: Math.round(a.y + (b.y - a.y) * f) };
  };
  const truth: Scene["truth"] = [];
  for (const w of walkers) {
    let from: number | undefined;
    let last = 0;
    for (let i = Math.round(w.path[0]!.t * 100); i <= Math.round(w.path[w.path.length - 1]!.t * 100); i++) {
      const t = i / 100;
      const p = at(w, t);
      const inView = p !== undefined && p.x + w.w > 0 && p.x < width && p.y + w.h > 0 && p.y < height;
      if (inView) {
        from ??= t;
        last = t;
      } else if (from !== undefined) {
        truth.push({ fromS: from, toS: last });
        from = undefined;
      }
    }
    if (from !== undefined) truth.push({ fromS: from, toS: last });
  }
  return truth.sort((a, b) => a.fromS - b.fromS);
}

interface SceneInput {
  name: string;
  kind: SceneKind;
  description: string;
  durationS: number;
  spec: SceneSpec;
  pirPulses?: Scene["pirPulses"];
  settings?: Partial<MotionSettings>;
}

function scene(s: SceneInput): Scene {
  return {
    name: s.name,
    kind: s.kind,
    description: s.description,
    durationS: s.durationS,
    fps: FPS,
    width: WIDTH,
    height: HEIGHT,
    truth: presence(s.spec.walkers, WIDTH, HEIGHT),
    pirPulses: s.pirPulses ?? [],
    settings: { ...defaults, ...s.settings },
    spec: s.spec,
  };
}

const walk = (size: { w: number; h: number }, ...path: [t: number, x: number, y: number][]): Walker => ({ ...size, path: path.map(([t, x, y]) => ({ t, x, y })) });
/** 0 before `from`, rising linearly to 1 at `to`, as an ffmpeg expression. */
const ramp = (from: number, to: number) => `clip((t-${from})/${to - from},0,1)`;

export const SCENES: Scene[] = [
  scene({
    name: "person-crossing",
    kind: "object",
    description: "A person walks across the garden left to right at 3 s, and back at 40 s (about 4 s each way): two visits, far enough apart to be two events.",
    durationS: 55,
    spec: { noise: 8, walkers: [walk(PERSON, [3, -40, 80], [7, 320, 80]), walk(PERSON, [40, 320, 75], [44, -40, 75])] },
    pirPulses: [{ atS: 3.5, durationS: 3 }, { atS: 40.5, durationS: 3 }],
  }),
  scene({
    name: "person-slow",
    kind: "object",
    description: "Someone approaches slowly from the far left (14 px/s, coming down the frame towards the camera), stands 3 s, then leaves right.",
    durationS: 30,
    spec: { noise: 8, walkers: [walk(PERSON, [4, -40, 30], [16, 130, 80], [19, 130, 80], [24, 320, 85])] },
    pirPulses: [{ atS: 9, durationS: 4 }, { atS: 18, durationS: 3 }],
  }),
  scene({
    name: "two-visits",
    kind: "object",
    description: "A quick crossing at 3 s; at 37 s someone comes in from the right, stands still in the middle for 6 s, and goes back out.",
    durationS: 60,
    spec: { noise: 8, walkers: [walk(PERSON, [3, -40, 80], [7.5, 320, 80]), walk(PERSON, [37, 320, 78], [41, 150, 78], [47, 150, 78], [50, 320, 78])] },
    pirPulses: [{ atS: 4, durationS: 2.5 }, { atS: 38, durationS: 3 }, { atS: 47.5, durationS: 2 }],
  }),
  scene({
    name: "small-far-person",
    kind: "object",
    description: "A person about 6.5 m away (18×40 px) crosses slowly at 5 s, at the edge of the HC-SR501's 7 m range, which feels them in the middle of the crossing.",
    durationS: 30,
    spec: { noise: 8, walkers: [walk(FAR_PERSON, [5, -18, 64], [17, 320, 64])] },
    pirPulses: [{ atS: 8, durationS: 5 }],
  }),
  scene({
    name: "person-under-cloud",
    kind: "object",
    description: "A cloud darkens the garden from 6 s to 14 s while a person crosses from 8 s to 12 s.",
    durationS: 30,
    spec: {
      noise: 8,
      walkers: [walk(PERSON, [8, -40, 80], [12, 320, 80])],
      light: { brightness: `-0.2*${ramp(6, 14)}`, contrast: `1-0.3*${ramp(6, 14)}` },
    },
    pirPulses: [{ atS: 8.5, durationS: 3 }],
  }),
  scene({
    name: "person-at-night",
    kind: "object",
    description: "Night under the IR lamp: dim, flat and noisy; a person crosses at 6 s and again at 40 s.",
    durationS: 55,
    spec: {
      noise: 20,
      walkers: [walk(PERSON, [6, -40, 80], [10, 320, 80]), walk(PERSON, [40, 320, 75], [44.5, -40, 75])],
      light: { brightness: "-0.12", contrast: "0.55" },
    },
    pirPulses: [{ atS: 6.5, durationS: 3 }, { atS: 40.5, durationS: 3 }],
  }),
  scene({
    name: "lamp-on",
    kind: "light",
    description: "A lamp near the bottom left switches on at 8 s (brighter, more contrast, a glow around it) and off at 20 s; its warmth fools the PIR once.",
    durationS: 30,
    spec: { noise: 8, walkers: [], light: { brightness: "0.12*between(t,8,20)", contrast: "1+0.15*between(t,8,20)" }, glow: "between(t,8,20)" },
    pirPulses: [{ atS: 8.2, durationS: 1.5 }],
  }),
  scene({
    name: "cloud",
    kind: "light",
    description: "A cloud dims the scene over 6 s (8–14 s) and clears over 6 s (26–32 s); the sun coming back warms the PIR.",
    durationS: 40,
    spec: {
      noise: 8,
      walkers: [],
      light: { brightness: `-0.22*(${ramp(8, 14)}-${ramp(26, 32)})`, contrast: `1-0.25*(${ramp(8, 14)}-${ramp(26, 32)})` },
    },
    pirPulses: [{ atS: 31, durationS: 2 }],
  }),
  scene({
    name: "ir-switch",
    kind: "light",
    description: "At 12 s dusk: the camera drops colour, the IR lamp comes on (brighter, flatter, other gamma) and auto-exposure settles over a second; the lamp's heat trips the PIR.",
    durationS: 30,
    spec: {
      noise: 8,
      walkers: [],
      irFromS: 12,
      light: { brightness: "gte(t,12)*(0.12+0.12*exp(-3*(t-12)))", contrast: "1-0.3*gte(t,12)", gamma: "1+0.3*gte(t,12)" },
    },
    pirPulses: [{ atS: 12.4, durationS: 1.5 }],
  }),
  scene({
    name: "sensor-noise",
    kind: "noise",
    description: "Nothing happens, in heavy sensor noise (high gain at night).",
    durationS: 30,
    spec: { noise: 30, walkers: [] },
  }),
  scene({
    name: "swaying-branch",
    kind: "masked",
    description: "A branch sways all the time in the top right, under a mask.",
    durationS: 30,
    spec: { noise: 8, walkers: [], branch: { x: 232, y: 8 } },
    settings: { masks: [[[0.66, 0], [1, 0], [1, 0.42], [0.66, 0.42]]] },
  }),
  scene({
    name: "empty",
    kind: "empty",
    description: "An empty garden with ordinary sensor noise.",
    durationS: 30,
    spec: { noise: 8, walkers: [] },
  }),
];

/** The garden: sky at the top, a house with windows on the right, textured grass and paving. */
const BACKGROUND =
  "if(lt(Y,48),190-0.7*Y+5*sin(X/13)+3*sin(X/4+Y/3)," +
  "if(between(X,196,300)*between(Y,48,130),if(between(mod(X-196,34),8,26)*between(Y,62,92),60+6*sin(Y),150+10*sin(X/2)*sin(Y/2))," +
  "105+30*sin(X/9)*cos(Y/7)+18*sin((X+2*Y)/23)+10*sin(X/3.1)*sin(Y/2.3)))";
/** A figure: light head, dark torso and arms, darker legs; transparent around them. */
const FIGURE_LUM = "if(lt(Y,0.17*H),185,if(lt(Y,0.58*H),70+8*sin(Y/2),45))";
const FIGURE_ALPHA =
  "255*if(lt(Y,0.17*H),lt(abs(X-W/2),0.22*W),if(lt(Y,0.58*H),lt(abs(X-W/2),0.45*W),gt(lt(abs(X-0.3*W),0.16*W)+lt(abs(X-0.7*W),0.16*W),0)))";
/** A branch with leaves: a thick diagonal and two clumps. */
const BRANCH_ALPHA = "255*gt(lt(abs(Y-0.5*X),4)+lt(hypot(X-20,Y-10),9)+lt(hypot(X-52,Y-26),11),0)";

/** The lamp's light: strong near (40, 170), fading over about 200 px. */
const GLOW = "70*exp(-(pow(X-40,2)+pow(Y-170,2))/30000)";

/** A still image made once and repeated: geq is slow, so it never runs per frame. */
const still = (size: string, fmt: string, geq: string, fps: number, d: number) =>
  `color=c=black:s=${size}:r=${fps}:d=1,format=${fmt},trim=end_frame=1,geq=${geq},loop=loop=-1:size=1,trim=duration=${d}`;

/** Piecewise-linear position along a path, as an ffmpeg expression of t. */
function pathExpr(path: Walker["path"], axis: "x" | "y"): string {
  let expr = String(path[path.length - 1]![axis]);
  for (let k = path.length - 2; k >= 0; k--) {
    const [a, b] = [path[k]!, path[k + 1]!];
    expr = `if(lt(t,${b.t}),${a[axis]}+(${b[axis] - a[axis]})*(t-${a.t})/${b.t - a.t},${expr})`;
  }
  return expr;
}

/** The scene as one ffmpeg filter graph with the output pad [out]. */
export function sceneGraph(s: Scene): string {
  const { fps, durationS: d, spec } = s;
  const chains = [`${still(`${s.width}x${s.height}`, "gray", `lum='${BACKGROUND}'`, fps, d)}[l0]`];
  let last = "l0";
  let n = 0;
  const overlay = (sprite: string, x: string, y: string, enable?: string) => {
    n++;
    chains.push(`${sprite}[s${n}]`);
    chains.push(`[${last}][s${n}]overlay=x='${x}':y='${y}'${enable !== undefined ? `:enable='${enable}'` : ""}[l${n}]`);
    last = `l${n}`;
  };
  for (const w of spec.walkers) {
    const sprite = still(`${w.w}x${w.h}`, "yuva444p", `lum='${FIGURE_LUM}':cb=128:cr=128:a='${FIGURE_ALPHA}'`, fps, d);
    overlay(sprite, pathExpr(w.path, "x"), pathExpr(w.path, "y"), `between(t,${w.path[0]!.t},${w.path[w.path.length - 1]!.t})`);
  }
  if (spec.branch !== undefined) {
    const sprite = still("72x40", "yuva444p", `lum=50:cb=128:cr=128:a='${BRANCH_ALPHA}'`, fps, d);
    overlay(sprite, `${spec.branch.x}+12*sin(2*PI*0.6*t)`, `${spec.branch.y}+4*sin(2*PI*0.9*t+1)`);
  }
  if (spec.glow !== undefined) {
    n++;
    chains.push(`${still(`${s.width}x${s.height}`, "gray", `lum='${GLOW}'`, fps, d)}[s${n}]`);
    chains.push(`[${last}]format=gray[g${n}];[g${n}][s${n}]blend=all_mode=addition:enable='${spec.glow}'[l${n}]`);
    last = `l${n}`;
  }
  const post: string[] = [];
  if (spec.irFromS !== undefined) post.push("format=rgb24", "colorbalance=rs=0.35:gs=0.1:bs=-0.35", `hue=s='lt(t,${spec.irFromS})'`);
  if (spec.light !== undefined) {
    const { brightness, contrast, gamma } = spec.light;
    post.push(`eq=brightness='${brightness}':contrast='${contrast}'${gamma !== undefined ? `:gamma='${gamma}'` : ""}:eval=frame`);
  }
  post.push("format=gray", `noise=alls=${spec.noise}:allf=t`);
  chains.push(`[${last}]${post.join(",")}[out]`);
  return chains.join(";");
}

/**
 * Renders a scene with ffmpeg: `durationS × fps` frames of `width × height` bytes of 8-bit
 * luma (what the camera's motion pipe delivers). Pass `{ ...scene, fps }` to render another rate.
 */
export function renderScene(scene: Scene): Promise<Uint8Array[]> {
  const frameBytes = scene.width * scene.height;
  const count = Math.round(scene.durationS * scene.fps);
  const args = ["-v", "error", "-filter_complex", sceneGraph(scene), "-map", "[out]", "-frames:v", String(count), "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"];
  return new Promise((resolve, reject) => {
    const p = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (c: Buffer) => chunks.push(c));
    p.stderr.on("data", (c: Buffer) => (err += c.toString()));
    p.once("error", reject);
    p.once("close", (code) => {
      if (code !== 0) return reject(new Error(`ffmpeg exited ${code} rendering ${scene.name}: ${err}`));
      const all = Buffer.concat(chunks);
      if (all.length !== count * frameBytes) return reject(new Error(`ffmpeg gave ${all.length} bytes for ${scene.name}, expected ${count} frames of ${frameBytes}`));
      resolve(Array.from({ length: count }, (_, i) => new Uint8Array(all.buffer, all.byteOffset + i * frameBytes, frameBytes)));
    });
  });
}

/** A stretch of time with motion: from the first to the last moving frame, seconds from the start. */
export interface Episode {
  fromS: number;
  toS: number;
}

/**
 * Turns per-frame `moving` flags (frame i at i / fps seconds) into episodes, merging those less
 * than `mergeGapS` apart: what a presence detector downstream would call one visit.
 */
export function motionEpisodes(moving: boolean[], fps: number, mergeGapS = 3): Episode[] {
  const episodes: Episode[] = [];
  moving.forEach((m, i) => {
    if (!m) return;
    const t = i / fps;
    const last = episodes[episodes.length - 1];
    if (last !== undefined && t - last.toS < mergeGapS) last.toS = t;
    else episodes.push({ fromS: t, toS: t });
  });
  return episodes;
}
