import { useEffect, useState } from "preact/hooks";
import { ApiError, api, errorText, getDevices, onUnauthorized, setCsrf } from "./api.js";
import { DevicesTab } from "./devices/devices-tab.js";
import { EventsTab } from "./events/events-tab.js";
import { DevicesIcon, EventsIcon, LiveIcon, LogoutIcon, SettingsIcon } from "./icons.js";
import { LiveTab } from "./live/live-tab.js";
import { Login } from "./login.js";
import { TABS, href, useRoute, type Tab } from "./router.js";
import { SettingsTab } from "./settings/settings-tab.js";
import { Toasts, toast } from "./toast.js";
import type { DeviceList, Session } from "./types.js";

type Boot =
  | { kind: "loading" }
  | { kind: "login"; notice?: string }
  | { kind: "ready"; session: Session; fleet: Promise<DeviceList> }
  | { kind: "failed"; error: string };

// Asked at once, beside the session check: the live view needs both, and a round trip saved
// is a live picture sooner. A 401 here just means the login page comes first.
let early: Promise<DeviceList> | undefined = getDevices({ quiet401: true });
early.catch(() => undefined);
const fleetOnce = (): Promise<DeviceList> => {
  const p = early ?? getDevices();
  early = undefined;
  return p;
};

export function App() {
  const [boot, setBoot] = useState<Boot>({ kind: "loading" });

  const enter = (session: Session) => {
    setCsrf(session.csrf);
    const fleet = fleetOnce();
    fleet.catch(() => undefined);
    setBoot({ kind: "ready", session, fleet });
  };

  const check = async () => {
    try {
      enter(await api<Session>("/api/session", { quiet401: true }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        early = undefined;
        setBoot({ kind: "login" });
      } else setBoot({ kind: "failed", error: errorText(err) });
    }
  };

  useEffect(() => {
    onUnauthorized(() => setBoot((b) => (b.kind === "login" ? b : { kind: "login", notice: "Your session has ended: log in again." })));
    void check();
  }, []);

  const logout = async () => {
    try {
      await api("/api/session", { method: "DELETE", quiet401: true });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) return toast(`Could not log out: ${errorText(err)}`, "error");
    }
    setCsrf("");
    setBoot({ kind: "login" });
  };

  return (
    <>
      {boot.kind === "loading" && <main class="splash" aria-busy="true" />}
      {boot.kind === "failed" && (
        <main class="splash">
          <div class="card">
            <h1>Picket cannot reach its web service</h1>
            <p class="form-error">{boot.error}</p>
            <button type="button" class="primary" onClick={() => void check()}>
              Try again
            </button>
          </div>
        </main>
      )}
      {boot.kind === "login" && <Login notice={boot.notice} onLogin={enter} />}
      {boot.kind === "ready" && <Shell session={boot.session} fleet={boot.fleet} onLogout={logout} />}
      <Toasts />
    </>
  );
}

const TAB_META: Record<Tab, { label: string; Icon: () => preact.JSX.Element }> = {
  live: { label: "Live", Icon: LiveIcon },
  events: { label: "Events", Icon: EventsIcon },
  devices: { label: "Devices", Icon: DevicesIcon },
  settings: { label: "Settings", Icon: SettingsIcon },
};

function Shell({ session, fleet, onLogout }: { session: Session; fleet: Promise<DeviceList>; onLogout: (() => void) | undefined }) {
  const route = useRoute();
  const [devices, setDevices] = useState<DeviceList | undefined>(undefined);
  const [fleetError, setFleetError] = useState("");

  useEffect(() => {
    fleet.then(setDevices, (err: unknown) => setFleetError(errorText(err)));
  }, [fleet]);

  useEffect(() => {
    document.title = devices === undefined ? "Picket" : `Picket · ${devices.self}`;
  }, [devices]);

  const others = devices === undefined ? 0 : devices.devices.filter((d) => d.id !== devices.self).length;
  return (
    <div class="shell" data-tab={route.tab}>
      <header class="topbar">
        <a class="brand" href={href("live")} aria-label="Picket: live view">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Picket</span>
        </a>
        <span class="fleet" data-testid="fleet-name">
          {devices?.self ?? ""}
          {others > 0 && <span class="muted"> + {others} more</span>}
        </span>
        <nav class="tabs" aria-label="Sections">
          {TABS.map((t) => {
            const { label, Icon } = TAB_META[t];
            return (
              <a key={t} class="tab" href={href(t)} aria-current={route.tab === t ? "page" : undefined} data-testid={`tab-${t}`}>
                <Icon />
                <span>{label}</span>
              </a>
            );
          })}
        </nav>
        <div class="who">
          {session.user.name !== "" && (
            <span class="user" data-testid="current-user" title={`Logged in as ${session.user.name} (${session.user.role})`}>
              {session.user.name}
              {session.user.role === "viewer" && <span class="badge">viewer</span>}
            </span>
          )}
          {onLogout !== undefined && (
            <button type="button" class="ghost icon-button" onClick={onLogout} data-testid="logout" title="Log out" aria-label="Log out">
              <LogoutIcon />
              <span class="wide-only">Log out</span>
            </button>
          )}
        </div>
      </header>
      <main class="content">
        {fleetError !== "" && devices === undefined && (
          <p class="banner error" role="alert">
            Could not load the devices: {fleetError}
          </p>
        )}
        {devices !== undefined && route.tab === "live" && <LiveTab fleet={devices} enlarged={route.arg} admin={session.user.role === "admin"} />}
        {devices !== undefined && route.tab === "events" && <EventsTab fleet={devices} user={session.user} />}
        {devices !== undefined && route.tab === "devices" && <DevicesTab fleet={devices} />}
        {devices !== undefined && route.tab === "settings" && <SettingsTab fleet={devices} session={session} device={route.arg} />}
      </main>
    </div>
  );
}
