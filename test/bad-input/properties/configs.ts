// Every service's configuration through the runtime's loader, from arbitrary environment
// strings: a value loads, or the start fails with a message naming the variable that holds
// it, and a secret's value is never shown.
import fc from "fast-check";
import { ConfigError, loadConfig, type ConfigSpec } from "../../../libs/runtime/src/config.js";
import { onlyThrows, prop, type BadInputFamily } from "./family.js";

/** A password in a URL, long as password managers make them, sometimes with characters a URL cannot hold as they are. */
const password = fc.oneof(fc.stringMatching(/^[A-Za-z0-9!$%&*+;=~_-]{8,48}$/), fc.stringMatching(/^[A-Za-z0-9!$%&*+;=~_ @/"-]{8,48}$/));

/** URLs with credentials, some of them broken so that the value is refused. */
const credentialUrl = fc
  .tuple(fc.constantFrom("rtsp", "http", "https", "nats", "ws", "ftp", "rtsp:", "tls"), fc.constantFrom("admin", "u"), password, fc.constantFrom("cam.local:554/stream", "host", "", "bad host/x", ":99999", "[::1", "h\u0000"))
  .map(([scheme, user, pass, rest]) => ({ value: `${scheme}://${user}:${pass}@${rest}`, secret: pass }));

/** What people (and scripts) put into environment variables. */
const envValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ maxLength: 24 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
  credentialUrl.map((c) => c.value),
  fc.constantFrom(
    "", " ", "true", "no", "maybe", "0", "-1", "65536", "1e3", "0x10", " 8080 ", "nats://", "http://", "https://x", "ws://a:1", "test", "rpicam", "file:", "file:-x",
    "v4l2:/dev/video0", "v4l2:/dev/sda", "Europe/Berlin", "Mars/Olympus_Mons", "gpio:17", "gpio:99", "sim", "high,low", "high:1280x720@2000", "low:641x360@400", "auto", "a,,b",
    "$(reboot)", "`id`", "a;b", "x".repeat(10_000), "\u0000", "é", "123456789:AAEhBOweik9ai2o4qhPqzMhRnWEyMOvEjXk", "Front Door",
  ),
);

/** Secret values: random enough that finding a piece of one in a message means it was echoed. */
const secretValue = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_:-]{10,90}$/), fc.tuple(fc.integer({ min: 100, max: 2 ** 40 }), fc.stringMatching(/^[A-Za-z0-9_-]{0,70}$/)).map(([id, rest]) => `${id}:${rest}`));

/** A configuration spec to check, as a service (or the runtime) declares it. */
export interface ConfigUnderTest {
  name: string;
  spec: ConfigSpec;
  /** The checks between settings that bootService runs after loading. */
  check?: (cfg: never) => string[];
}

/** Every variable a service reads: its entries' and their fallbacks. */
const variables = (spec: ConfigSpec) => Object.values(spec).flatMap((e) => [{ name: e.env, entry: e }, ...(e.fallbackEnv === undefined ? [] : [{ name: e.fallbackEnv, entry: e }])]);

type Outcome = { ok: true; cfg: unknown } | { ok: false; problems: string[]; message: string };

function load(spec: ConfigSpec, env: Record<string, string>): Outcome {
  try {
    return { ok: true, cfg: loadConfig(spec, env) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, problems: err.problems, message: err.message };
  }
}

/** Whether `text` shows any 10 characters of `secret` (a cut echo leaks too). */
function shows(text: string, secret: string): boolean {
  const s = secret.trim();
  if (s.length < 10) return s.length >= 6 && text.includes(s);
  for (let i = 0; i + 10 <= s.length; i++) if (text.includes(s.slice(i, i + 10))) return true;
  return false;
}

/** The problem a variable's value alone causes: the line naming it, or none. */
function problemOf(service: ConfigUnderTest, variable: string, value: string): string | undefined {
  const out = load(service.spec, { [variable]: value });
  if (out.ok) return undefined;
  if (out.problems.length !== 1) throw new Error(`${variable}=${JSON.stringify(value)} gave ${out.problems.length} problems`);
  return out.problems[0];
}

/** The loader's family over these specs (every service's in the integration run). */
export function configFamily(specs: ConfigUnderTest[], family: string): BadInputFamily {
  const SERVICE = new Map(specs.map((s) => [s.name, s]));
  const service = (name: string) => SERVICE.get(name) as ConfigUnderTest;
  const variable = (s: ConfigUnderTest, name: string) => variables(s.spec).find((v) => v.name === name) as ReturnType<typeof variables>[number];
  const serviceName = fc.constantFrom(...specs.map((s) => s.name));

  /** The `i`th variable (modulo their number) of the named spec. */
  const nth = (name: string, i: number) => {
    const vars = variables(service(name).spec);
    return vars[i % vars.length] as (typeof vars)[number];
  };

  /** A spec, one of its variables, and a value for it (by name, so a counterexample reads well). */
  const oneVariable = fc.tuple(serviceName, fc.nat(), envValue, secretValue, fc.boolean()).map(([name, i, value, secret, useSecret]) => {
    const v = nth(name, i);
    return [name, v.name, v.entry.secret === true && useSecret ? secret : value] as const;
  });

  const manyVariables = fc.tuple(serviceName, fc.array(fc.tuple(fc.nat(), envValue), { maxLength: 8 })).map(([name, pairs]) => [name, Object.fromEntries(pairs.map(([i, value]) => [nth(name, i).name, value]))] as const);

  const urlInAnyVariable = fc.tuple(serviceName, fc.nat(), credentialUrl).map(([name, i, url]) => [name, nth(name, i).name, url] as const);

  return {
    id: "bad-input-config",
    family,
    outcome: "loads, or one ConfigError listing one line per bad variable, each starting with the variable that holds the value; secrets and URL passwords never shown",
    properties: [
      prop("unset, every spec loads its defaults", 5, serviceName, (name) => load(service(name).spec, {}).ok),
      prop("one variable, any value: loads, or one problem naming it, without its secret", 600, oneVariable, ([name, varName, value]) => {
        const s = service(name);
        const { entry } = variable(s, varName);
        const problem = problemOf(s, varName, value);
        if (problem === undefined) return true;
        const namesIt = problem.startsWith(`${entry.env} `) || problem.startsWith(`${entry.env}:`);
        const namesHolder = varName === entry.env || problem.includes(varName);
        return namesIt && namesHolder && problem.length <= 600 && !(entry.secret === true && shows(problem, value));
      }),
      prop("many variables at once: exactly the problems each has alone", 150, manyVariables, ([name, env]) => {
        const s = service(name);
        const out = load(s.spec, env);
        // A fallback is read only when its variable is unset.
        const alone = Object.entries(env)
          .filter(([v]) => !variables(s.spec).some((x) => x.entry.fallbackEnv === v && env[x.entry.env]?.trim()))
          .map(([v, value]) => problemOf(s, v, value))
          .filter((p): p is string => p !== undefined);
        if (out.ok) {
          if (alone.length > 0) return false;
          const problems = onlyThrows(() => s.check?.(out.cfg as never) ?? [], () => false);
          return problems !== undefined && problems.every((p) => /^PICKET_[A-Z_]+[: ]/.test(p));
        }
        return [...out.problems].sort().join("\n") === [...alone].sort().join("\n");
      }),
      prop("a URL's password is not shown, in any variable, however the URL is refused", 300, urlInAnyVariable, ([name, varName, url]) => {
        const out = load(service(name).spec, { [varName]: url.value });
        return out.ok || !shows(out.message, url.secret);
      }),
    ],
  };
}
