import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api.js";
import { soon, when } from "../format.js";
import type { TelegramChat } from "../types.js";
import { Section, Status, useAction } from "./section.js";

/** While a pairing code is shown, the chat list is read again this often (a chat pairs in Telegram). */
const WATCH_MS = 3_000;

/** Telegram pairing codes and the chats that get alerts (admins). */
export function TelegramSection() {
  const [chats, setChats] = useState<TelegramChat[] | undefined>(undefined);
  const [error, setError] = useState("");
  const [code, setCode] = useState<{ code: string; expiresAt: number } | undefined>(undefined);
  const [unpairing, setUnpairing] = useState<TelegramChat["id"] | undefined>(undefined);
  const pair = useAction();
  const unpair = useAction();

  const load = () =>
    api<{ chats: TelegramChat[] }>("/api/telegram/chats").then(
      (r) => {
        setChats(r.chats);
        setError("");
      },
      (err: unknown) => setError(errorText(err)),
    );

  useEffect(() => void load(), []);
  useEffect(() => {
    if (code === undefined) return;
    const timer = window.setInterval(() => {
      if (Date.now() > code.expiresAt) setCode(undefined);
      else void load();
    }, WATCH_MS);
    return () => clearInterval(timer);
  }, [code]);

  const makeCode = async () => {
    const done = await pair.run(() => api<{ code: string; expiresAt: number }>("/api/telegram/pairing-code", { method: "POST" }), "Pairing code made");
    if (done !== undefined) setCode(done.value);
  };
  const remove = async (chat: TelegramChat) => {
    const done = await unpair.run(() => api(`/api/telegram/chats/${encodeURIComponent(String(chat.id))}`, { method: "DELETE" }), `${chat.title} no longer gets alerts`);
    setUnpairing(undefined);
    if (done !== undefined) setChats((l) => l?.filter((c) => c.id !== chat.id));
  };

  return (
    <Section id="telegram" title="Telegram" intro="Alerts go to the chats paired with the bot. Pair a chat with a one-time code.">
      <div class="row">
        <button type="button" class="primary" onClick={() => void makeCode()} disabled={pair.busy} data-testid="telegram-pair">
          Make a pairing code
        </button>
        <Status outcome={pair.outcome?.kind === "error" ? pair.outcome : undefined} />
      </div>
      {code !== undefined && (
        <div class="pairing" data-testid="pairing">
          <p class="code" data-testid="pairing-code">
            {code.code}
          </p>
          <p>
            In Telegram, open a chat with your Picket bot (or add it to a group) and send <kbd>/start {code.code}</kbd>. The code works once, until {soon(code.expiresAt)}.
          </p>
        </div>
      )}
      <h4>Paired chats</h4>
      {error !== "" && <p class="banner error">Could not read them: {error}</p>}
      {chats !== undefined && chats.length === 0 && <p class="muted small">None yet: alerts go nowhere until a chat is paired.</p>}
      {chats !== undefined && chats.length > 0 && (
        <ul class="plain">
          {chats.map((c) => (
            <li key={c.id} data-testid="telegram-chat">
              <span class="grow">
                <strong>{c.title}</strong> <span class="muted small">{c.type}</span>
                <br />
                <span class="muted small">
                  paired {when(c.pairedAt)} by {c.pairedBy}
                </span>
                {c.source === "config" && (
                  <>
                    <br />
                    <span class="muted small" data-testid="telegram-chat-from-config">
                      Listed in PICKET_TELEGRAM_CHATS: unpairing lasts until the bot restarts, unless it is also removed from that variable.
                    </span>
                  </>
                )}
              </span>
              {unpairing === c.id ? (
                <span class="confirm">
                  <button type="button" class="danger small" onClick={() => void remove(c)} disabled={unpair.busy} data-testid="telegram-unpair-confirm">
                    Unpair
                  </button>
                  <button type="button" class="small" onClick={() => setUnpairing(undefined)}>
                    Keep
                  </button>
                </span>
              ) : (
                <button type="button" class="ghost small" onClick={() => setUnpairing(c.id)} data-testid="telegram-unpair">
                  Unpair
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <Status outcome={unpair.outcome} />
    </Section>
  );
}
