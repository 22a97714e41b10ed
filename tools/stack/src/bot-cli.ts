import type { PairedChat } from "@picket/contracts";
import { createLogger, openSettings } from "@picket/runtime";
// The bot's own pairing module, so the CLI and the bot cannot disagree on codes or stored chats.
import { createPairingCode, openPairedChats } from "@picket/runtime";
import { cliTarget, connectCli } from "./cli-bus.js";

/**
 * `npm run bot -- <command>` manages which Telegram chats the household's bot talks to:
 *   pair              a one-time pairing code (an hour, 5 tries) to send the bot from the chat
 *   chats             the paired chats
 *   unpair <chat id>  unpairs a chat: it gets no more alerts and the bot ignores it
 * PICKET_NATS_URL selects the bus, as for the services. Paired chats are household-wide.
 */
const usage = "usage: npm run bot -- pair | chats | unpair <chat id>";
const [command, arg, extra] = process.argv.slice(2);

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const valid = extra === undefined && ((command === "pair" || command === "chats") ? arg === undefined : command === "unpair" && arg !== undefined);
if (!valid) fail(usage);
const unpairId = command === "unpair" ? Number(arg) : undefined;
if (unpairId !== undefined && (!/^-?\d{1,16}$/.test(arg ?? "") || !Number.isSafeInteger(unpairId) || unpairId === 0)) {
  fail(`"${(arg ?? "").slice(0, 24)}" is not a chat id (an integer like 123456789, or -100123456789 for a group)\n${usage}`);
}

// Swedish dates are ISO-shaped (2025-06-01 14:05), in the local time zone.
const when = (ms: number) => new Date(ms).toLocaleString("sv-SE").slice(0, 16);
const byText = (c: PairedChat) => (c.source === "config" ? "PICKET_TELEGRAM_CHATS" : c.by);

function table(chats: PairedChat[]): string {
  const rows = [["chat id", "type", "title", "paired", "by"], ...chats.map((c) => [String(c.id), c.type, c.title || "-", when(c.pairedAt), byText(c)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}

const nc = await connectCli();
try {
  const kv = await openSettings(nc);
  if (command === "pair") {
    const { code, expiresAt } = await createPairingCode(kv, "cli");
    console.log(`Pairing code: ${code} (one use, until ${when(expiresAt)}; it replaces any earlier code)`);
    console.log(`Send /start ${code} to your bot in a private chat, or /start@<your bot's username> ${code} in a group.`);
  } else {
    const chats = await openPairedChats(kv, createLogger({ service: "bot-cli", device: cliTarget.device, level: "warn" }, process.stderr));
    try {
      if (command === "chats") {
        const list = chats.list();
        console.log(list.length === 0 ? "No paired chats. Pair one with: npm run bot -- pair" : table(list));
      } else {
        const removed = await chats.unpair(unpairId as number);
        if (removed === undefined) {
          console.error(`chat ${unpairId} is not paired (npm run bot -- chats lists the paired ones)`);
          process.exitCode = 2;
        } else {
          console.log(`unpaired chat ${removed.id}${removed.title ? ` (${removed.title})` : ""}: it gets no more alerts and the bot ignores it`);
          if (removed.source === "config") console.log(`It is listed in PICKET_TELEGRAM_CHATS: it comes back at the bot's next start unless you remove it from that variable.`);
        }
      }
    } finally {
      chats.stop();
    }
  }
} finally {
  await nc.close();
}
