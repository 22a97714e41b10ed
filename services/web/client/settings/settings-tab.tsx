import { useEffect, useState } from "preact/hooks";
import { api, errorText, seg } from "../api.js";
import { navigate } from "../router.js";
import type { DeviceList, DeviceSettings, Session } from "../types.js";
import { ArmingSection } from "./arming.js";
import { DetectionSection } from "./detection.js";
import { NotificationsSection } from "./notifications.js";
import { PasswordSection } from "./password.js";
import { PlayersSection } from "./players.js";
import { PresetsSection } from "./presets.js";
import { TelegramSection } from "./telegram.js";
import { UsersSection } from "./users.js";
import { ZonesSection } from "./zones.js";

/** Settings: per device (from `#/settings/<device>`, else this device, else on a hub the first device), then the household's. */
export function SettingsTab({ fleet, session, device }: { fleet: DeviceList; session: Session; device: string | undefined }) {
  const admin = session.user.role === "admin";
  const listed = (d: string | undefined) => d !== undefined && fleet.devices.some((x) => x.id === d);
  const id = listed(device) ? (device as string) : listed(fleet.self) ? fleet.self : (fleet.devices[0]?.id ?? fleet.self);
  const [settings, setSettings] = useState<DeviceSettings | undefined>(undefined);
  const [error, setError] = useState("");
  const [reads, setReads] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setSettings(undefined);
    setError("");
    api<DeviceSettings>(`/api/devices/${seg(id)}/settings`, { signal: ac.signal }).then(setSettings, (err: unknown) => !ac.signal.aborted && setError(errorText(err)));
    return () => ac.abort();
  }, [id, reads]);

  const saved = (patch: Partial<DeviceSettings>) => setSettings((s) => (s === undefined ? s : { ...s, ...patch }));
  const props = settings === undefined ? undefined : { device: id, settings, readOnly: !admin, onSaved: saved };
  return (
    <div class="settings">
      <div class="toolbar">
        <h2>Settings</h2>
        {fleet.devices.length > 1 && (
          <label class="field inline">
            Camera
            <select value={id} onChange={(e) => navigate("settings", e.currentTarget.value)} data-testid="settings-device">
              {fleet.devices.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.id}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {!admin && (
        <p class="banner" data-testid="settings-read-only">
          You are logged in as a viewer: settings are shown, but only an admin can change them.
        </p>
      )}
      <div class="settings-grid">
        {error !== "" && (
          <p class="banner error wide" role="alert" data-testid="settings-error">
            Could not read the settings of {id}: {error}
          </p>
        )}
        {settings === undefined && error === "" && <p class="empty wide">Reading the settings of {id}…</p>}
        {props !== undefined && (
          <>
            <ArmingSection key={`a-${id}`} {...props} />
            <DetectionSection key={`d-${id}`} {...props} />
            <ZonesSection key={`z-${id}`} {...props} />
            <PresetsSection key={`p-${id}`} {...props} onReload={() => setReads((n) => n + 1)} />
            {admin && <PlayersSection key={`l-${id}`} device={id} settings={props.settings} />}
          </>
        )}
        <NotificationsSection readOnly={!admin} />
        {admin && <TelegramSection />}
        {admin && <UsersSection me={session.user.name} />}
        {session.user.name !== "" && <PasswordSection fromEnv={session.passwordFromEnv === true} />}
      </div>
    </div>
  );
}
