import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { errorText } from "../api.js";

/** One settings card; `id` names it for tests (`data-testid="settings-<id>"`) and the heading's id. */
export function Section({ id, title, intro, wide, children }: { id: string; title: string; intro?: ComponentChildren; wide?: boolean; children: ComponentChildren }) {
  return (
    <section class={`card settings-section${wide === true ? " wide" : ""}`} data-testid={`settings-${id}`} aria-labelledby={`settings-${id}-title`}>
      <h3 id={`settings-${id}-title`}>{title}</h3>
      {intro !== undefined && <p class="intro">{intro}</p>}
      {children}
    </section>
  );
}

export interface Outcome {
  kind: "ok" | "error";
  text: string;
}

/**
 * A save (or any change) with its outcome shown beside its button: `run` resolves to
 * `{ value }` (the answer), or undefined when it failed (the server's message is then shown).
 */
export function useAction(): { busy: boolean; outcome: Outcome | undefined; run: <T>(fn: () => Promise<T>, ok: string) => Promise<{ value: T } | undefined>; fail: (text: string) => void } {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);
  const run = async <T,>(fn: () => Promise<T>, ok: string): Promise<{ value: T } | undefined> => {
    setBusy(true);
    setOutcome(undefined);
    try {
      const value = await fn();
      setOutcome({ kind: "ok", text: ok });
      return { value };
    } catch (err) {
      setOutcome({ kind: "error", text: errorText(err) });
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, outcome, run, fail: (text) => setOutcome({ kind: "error", text }) };
}

/** The outcome of the section's last action, for people (and tests: `data-testid="status"`). */
export function Status({ outcome }: { outcome: Outcome | undefined }) {
  if (outcome === undefined) return null;
  return (
    <span class={`status ${outcome.kind}`} role={outcome.kind === "error" ? "alert" : "status"} data-testid="status" data-kind={outcome.kind}>
      {outcome.text}
    </span>
  );
}
