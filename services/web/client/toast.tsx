import { useEffect, useState } from "preact/hooks";

interface Toast {
  id: number;
  text: string;
  kind: "ok" | "error";
}

let next = 1;
const listeners = new Set<(t: Toast) => void>();

/** Shows a short message at the bottom of the page: a save that worked, or why it did not. */
export function toast(text: string, kind: "ok" | "error" = "ok"): void {
  const t = { id: next++, text, kind };
  for (const l of listeners) l(t);
}

const SHOW_MS = { ok: 3_500, error: 7_000 };

/** Where toasts appear; one on the page. */
export function Toasts() {
  const [shown, setShown] = useState<Toast[]>([]);
  useEffect(() => {
    const timers = new Set<number>();
    const add = (t: Toast) => {
      setShown((s) => [...s.slice(-2), t]);
      const timer = window.setTimeout(() => {
        timers.delete(timer);
        setShown((s) => s.filter((x) => x.id !== t.id));
      }, SHOW_MS[t.kind]);
      timers.add(timer);
    };
    listeners.add(add);
    return () => {
      listeners.delete(add);
      for (const t of timers) clearTimeout(t);
    };
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {shown.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} data-testid="toast" data-kind={t.kind} onClick={() => setShown((s) => s.filter((x) => x.id !== t.id))}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
