import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";

export interface SettingWatch {
  stop(): void;
}

/**
 * Follows one key of the settings bucket: `apply` gets the stored value first (if any),
 * then every change, live. A deleted key applies `undefined` (the default). A value that
 * does not parse is logged and ignored: the last good value stays in force.
 */
export async function watchSetting<T>(
  kv: KV,
  key: string,
  parse: (raw: string) => T,
  apply: (value: T | undefined) => void,
  log: Logger,
): Promise<SettingWatch> {
  const iter = await kv.watch({ key });
  void (async () => {
    for await (const e of iter) {
      if (e.operation !== "PUT") {
        apply(undefined);
        continue;
      }
      let value: T;
      try {
        value = parse(e.string());
      } catch (err) {
        log.warn({ key, reason: err instanceof Error ? err.message.slice(0, 300) : String(err), value: e.string().slice(0, 200) }, "ignoring a bad setting; the last good value stays");
        continue;
      }
      apply(value);
    }
  })().catch((err: unknown) => log.warn({ err, key }, "settings watch ended"));
  return { stop: () => iter.stop() };
}
