import { PRESET_LIMITS, PROFILE_PATTERN, type QualityPresets } from "@picket/contracts";

/**
 * Quality profiles: the sizes the camera publishes at once, each on
 * `picket.<device>.video.<name>`. The first is the camera's own picture (passed through from
 * a source that encodes, and the one clips, stills and motion use); each further profile is
 * a smaller copy scaled and encoded from the same capture.
 */
export interface VideoProfile {
  name: string;
  width: number;
  height: number;
  bitrateKbps: number;
  /** Frames per second of this profile (one ffmpeg drops frames of the capture for the slower ones). */
  fps: number;
}

/** One entry of PICKET_CAMERA_PROFILES; only the first may leave its size to the camera settings; fps defaults to PICKET_CAMERA_FPS. */
export type ProfileEntry = { name: string } & Partial<Omit<VideoProfile, "name">>;

export class ProfileError extends Error {
  override readonly name = "ProfileError";
}

export function isProfileError(err: unknown): err is ProfileError {
  return err instanceof ProfileError;
}

/** Each profile beyond the first is one more software encoder: a Pi 4 has CPU for about one. */
export const MAX_PROFILES = PRESET_LIMITS.count;

/** Names a viewer uses to ask for a choice rather than a profile. */
const RESERVED = new Set(["auto"]);

const LIMITS = { width: PRESET_LIMITS.width, height: PRESET_LIMITS.height, bitrateKbps: PRESET_LIMITS.bitrateKbps, fps: PRESET_LIMITS.fps } as const;

const ENTRY = /^([^:]*)(?::(\d{1,5})x(\d{1,5})@(\d{1,6})(?:\/(\d{1,3}))?)?$/;

/**
 * Parses `name[:WIDTHxHEIGHT@kbps[/fps]],…` (e.g. `high:1280x720@2000,low:640x360@400/10`).
 * Only the first entry may be a bare name: it then takes the camera's size and bitrate. An
 * entry without `/fps` takes PICKET_CAMERA_FPS. Throws ProfileError saying what is wrong and
 * what is accepted.
 */
export function parseProfileList(raw: string): ProfileEntry[] {
  const entries = raw.split(",").map((s) => s.trim());
  if (entries.length > MAX_PROFILES) throw new ProfileError(`at most ${MAX_PROFILES} profiles (each is one more encoder), got ${entries.length}`);
  return entries.map((text, i) => {
    if (text === "") throw new ProfileError(`profile ${i + 1} is empty; write name:WIDTHxHEIGHT@kbps, e.g. low:640x360@400`);
    const m = ENTRY.exec(text);
    if (m === null) throw new ProfileError(`"${text.slice(0, 40)}" is not name:WIDTHxHEIGHT@kbps[/fps] (e.g. low:640x360@400 or low:640x360@400/10)`);
    const name = m[1] as string;
    if (!PROFILE_PATTERN.test(name)) throw new ProfileError(`profile name "${name.slice(0, 40)}" must be 1–32 of a–z 0–9 _ -`);
    if (RESERVED.has(name)) throw new ProfileError(`"${name}" is what a viewer asks for to let Picket choose; name the profile otherwise`);
    if (m[2] === undefined) {
      if (i > 0) throw new ProfileError(`"${name}" needs its size and bitrate, e.g. ${name}:640x360@400 (only the first profile takes the camera's)`);
      return { name };
    }
    const size = checkedSize(name, Number(m[2]), Number(m[3]), Number(m[4]));
    if (m[5] === undefined) return { name, ...size };
    const fps = Number(m[5]);
    if (fps < LIMITS.fps[0] || fps > LIMITS.fps[1]) throw new ProfileError(`${name}: fps ${fps} is outside ${LIMITS.fps[0]}–${LIMITS.fps[1]}`);
    return { name, ...size, fps };
  });
}

function checkedSize(name: string, width: number, height: number, bitrateKbps: number): Omit<VideoProfile, "name" | "fps"> {
  const values = { width, height, bitrateKbps };
  for (const key of ["width", "height", "bitrateKbps"] as const) {
    const [min, max] = LIMITS[key];
    if (values[key] < min || values[key] > max) throw new ProfileError(`${name}: ${key === "bitrateKbps" ? "kbps" : key} ${values[key]} is outside ${min}–${max}`);
  }
  // H.264 in 4:2:0 halves both dimensions for colour.
  if (width % 2 !== 0 || height % 2 !== 0) throw new ProfileError(`${name}: ${width}x${height} must have an even width and height`);
  return values;
}

/** The camera settings a bare first profile takes (fps: every profile without its own), and the deprecated single profile name. */
export interface CameraPicture {
  width: number;
  height: number;
  bitrateKbps: number;
  fps: number;
  /** PICKET_CAMERA_PROFILE, when set. */
  legacyName?: string;
}

/**
 * The default second profile when PICKET_CAMERA_PROFILES is unset: `low`, 640 wide in the
 * camera's shape (640x360 for 16:9) at 400 kbps; none for a camera not wider than that, or
 * whose first profile is already called `low`.
 */
export function defaultExtra(camera: CameraPicture): VideoProfile | undefined {
  const width = 640;
  if (camera.width <= width || camera.legacyName === "low") return undefined;
  return { name: "low", width, height: Math.max(2, Math.round((width * camera.height) / camera.width / 2) * 2), bitrateKbps: 400, fps: camera.fps };
}

/**
 * The profiles to encode, first = the camera's own picture. `entries` is the parsed
 * PICKET_CAMERA_PROFILES (undefined when unset). Throws ProfileError on duplicate names, a
 * later profile larger than the first, or a PICKET_CAMERA_PROFILE that disagrees.
 */
export function resolveProfiles(entries: ProfileEntry[] | undefined, camera: CameraPicture): VideoProfile[] {
  const firstName = camera.legacyName ?? "high";
  const extra = defaultExtra(camera);
  const list: ProfileEntry[] = entries ?? (extra === undefined ? [{ name: firstName }] : [{ name: firstName }, extra]);
  const first = list[0];
  if (first === undefined) throw new ProfileError("no profile");
  if (entries !== undefined && camera.legacyName !== undefined && camera.legacyName !== first.name) {
    throw new ProfileError(`PICKET_CAMERA_PROFILE (${camera.legacyName}) is deprecated and disagrees with the first profile of PICKET_CAMERA_PROFILES (${first.name}); unset it`);
  }
  const profiles = list.map((e, i): VideoProfile =>
    i === 0
      ? { name: e.name, width: e.width ?? camera.width, height: e.height ?? camera.height, bitrateKbps: e.bitrateKbps ?? camera.bitrateKbps, fps: e.fps ?? camera.fps }
      : { name: e.name, width: e.width as number, height: e.height as number, bitrateKbps: e.bitrateKbps as number, fps: e.fps ?? camera.fps },
  );
  const main = profiles[0] as VideoProfile;
  const seen = new Set<string>();
  for (const p of profiles) {
    if (seen.has(p.name)) throw new ProfileError(`profile name "${p.name}" appears twice`);
    seen.add(p.name);
    if (p !== main && (p.width > main.width || p.height > main.height)) {
      throw new ProfileError(`${p.name} (${p.width}x${p.height}) is larger than the first profile ${main.name} (${main.width}x${main.height}), which is the camera's own picture`);
    }
  }
  return profiles;
}

/** `high 1280x720 2000k`, for logs. */
export const describeProfile = (p: VideoProfile): string => `${p.name} ${p.width}x${p.height} ${p.bitrateKbps}k`;

/** `high 1280x720 2000k 25fps`, for logs of a change. */
export const describeWithFps = (p: VideoProfile): string => `${describeProfile(p)} ${p.fps}fps`;

/**
 * The configured profiles as the QualityPresets a settings page shows: `auto` starts phones
 * on the last (smallest) and everything else on the first, as PICKET_STREAM_AUTO_PROFILES does.
 */
export function presetsOfProfiles(profiles: readonly VideoProfile[]): QualityPresets {
  const first = profiles[0];
  const last = profiles.at(-1);
  if (first === undefined || last === undefined) throw new ProfileError("no profile");
  return {
    presets: profiles.map(({ name, width, height, bitrateKbps, fps }) => ({ name, width, height, bitrateKbps, fps })),
    phone: last.name,
    desktop: first.name,
  };
}

/** The profiles a QualityPresets value asks for, in its order (the first is the camera's own picture). */
export const profilesOfPresets = (q: QualityPresets): VideoProfile[] => q.presets.map(({ name, width, height, bitrateKbps, fps }) => ({ name, width, height, bitrateKbps, fps }));

/** Whether two profile lists would make the same encoder (names, sizes, rates, order). */
export const sameProfiles = (a: readonly VideoProfile[], b: readonly VideoProfile[]): boolean =>
  a.length === b.length && a.every((p, i) => describeWithFps(p) === describeWithFps(b[i] as VideoProfile));
