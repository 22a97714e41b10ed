import { useEffect, useState } from "preact/hooks";
import { errorText, getDevices } from "../api.js";
import { ago, bytes, soon, span } from "../format.js";
import type { Device, DeviceList } from "../types.js";

const REFRESH_MS = 2_000;

/** Each device's health, from its services' heartbeats, refreshed every 2 s while shown. */
export function DevicesTab({ fleet }: { fleet: DeviceList }) {
  const [devices, setDevices] = useState(fleet.devices);
  const [error, setError] = useState("");

  useEffect(() => {
    const refresh = () =>
      getDevices().then(
        (d) => {
          setDevices(d.devices);
          setError("");
        },
        (err: unknown) => setError(errorText(err)),
      );
    void refresh();
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  return (
    <section aria-labelledby="devices-title">
      <div class="toolbar">
        <h2 id="devices-title">Devices</h2>
        {error !== "" && (
          <span class="form-error" role="alert">
            Not updating: {error}
          </span>
        )}
      </div>
      {devices.length === 0 && <p class="empty">No device has sent a heartbeat yet.</p>}
      <div class="cards">
        {devices.map((d) => (
          <DeviceCard key={d.id} device={d} self={d.id === fleet.self} />
        ))}
      </div>
    </section>
  );
}

function armedText(d: Device): string {
  const now = d.armed.armedNow ? "armed" : "disarmed";
  return d.armed.mode === "scheduled" ? `${now} (on schedule)` : now;
}

/** The camera's newest frame, when not fresh: "—" when it has none (never captured, or off on demand). */
const frameAge = (ms: number | null): string => (ms === null ? " · last frame —" : ms > 2_000 ? ` · last frame ${span(ms)} ago` : "");

function DeviceCard({ device: d, self }: { device: Device; self: boolean }) {
  const rows: [string, string][] = [
    ["Heartbeat", ago(d.lastSeenAgoMs)],
    ["Uptime", d.uptimeS === null ? "—" : span(d.uptimeS * 1000)],
    ["CPU temperature", d.temperatureC === null ? "—" : `${d.temperatureC.toFixed(1)} °C`],
    ["Camera", d.camera === null ? "not sending" : `${d.camera.fps.toFixed(0)} fps · ${d.camera.kbps.toFixed(0)} kbit/s${frameAge(d.camera.frameAgeMs)}`],
    ["Arming", armedText(d)],
    ["Alerts", d.snoozedUntil !== null && d.snoozedUntil > Date.now() ? `snoozed until ${soon(d.snoozedUntil)}` : "on"],
  ];
  const versions: Partial<Record<string, string>> = d.versions;
  const services = Object.entries(d.services).sort(([a], [b]) => a.localeCompare(b));
  return (
    <article class={`card device-card state-${d.state}`} data-testid="device-card" data-device={d.id}>
      <header class="card-head">
        <h3>{d.id}</h3>
        {self && <span class="muted small">this device</span>}
        <span class={`badge ${d.state}`} data-testid="device-state">
          {d.state}
        </span>
      </header>
      {d.problem !== null && (
        <p class="problem" data-testid="device-problem">
          {d.problem}
        </p>
      )}
      <dl class="facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {services.length > 0 && (
        <table class="services">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Version</th>
              <th scope="col">CPU</th>
              <th scope="col">Memory</th>
              <th scope="col">Heard</th>
            </tr>
          </thead>
          <tbody>
            {services.map(([name, s]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>{versions[name] ?? "—"}</td>
                <td>{s.cpuPct.toFixed(1)} %</td>
                <td>{bytes(s.rssBytes)}</td>
                <td>{span(s.ageMs)} ago</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {services.length === 0 && Object.keys(d.versions).length > 0 && (
        <p class="muted small">
          {Object.entries(d.versions)
            .map(([k, v]) => `${k} ${v}`)
            .join(" · ")}
        </p>
      )}
    </article>
  );
}
