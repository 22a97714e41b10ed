import { useEffect, useState } from "preact/hooks";
import { api, errorText, seg } from "../api.js";
import type { Role, User } from "../types.js";
import { Section, Status, useAction } from "./section.js";

const MIN_PASSWORD = 10;

/** Who may log in (admins): list, add, delete. */
export function UsersSection({ me }: { me: string }) {
  const [users, setUsers] = useState<User[] | undefined>(undefined);
  const [error, setError] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [deleting, setDeleting] = useState<string | undefined>(undefined);
  const act = useAction();

  const load = () =>
    api<{ users: User[] }>("/api/users").then(
      (r) => setUsers(r.users),
      (err: unknown) => setError(errorText(err)),
    );
  useEffect(() => void load(), []);

  const add = async (e: Event) => {
    e.preventDefault();
    if (password.length < MIN_PASSWORD) return act.fail(`The password needs at least ${MIN_PASSWORD} characters.`);
    const done = await act.run(() => api("/api/users", { method: "POST", body: { name: name.trim(), password, role } }), `${name.trim()} can log in now`);
    if (done === undefined) return;
    setName("");
    setPassword("");
    void load();
  };
  const remove = async (user: string) => {
    const done = await act.run(() => api(`/api/users/${seg(user)}`, { method: "DELETE" }), `${user} deleted`);
    setDeleting(undefined);
    if (done !== undefined) setUsers((l) => l?.filter((u) => u.name !== user));
  };

  return (
    <Section id="users" title="Users" intro="Admins change settings; viewers watch and see events.">
      {error !== "" && <p class="banner error">Could not read them: {error}</p>}
      {users !== undefined && (
        <ul class="plain">
          {users.map((u) => (
            <li key={u.name} data-testid="user-item" data-user={u.name}>
              <span class="grow">
                <strong>{u.name}</strong> <span class={`badge ${u.role}`}>{u.role}</span>
                {u.name === me && <span class="muted small"> (you)</span>}
              </span>
              {u.name !== me &&
                (deleting === u.name ? (
                  <span class="confirm">
                    <button type="button" class="danger small" onClick={() => void remove(u.name)} disabled={act.busy} data-testid="user-delete-confirm">
                      Delete
                    </button>
                    <button type="button" class="small" onClick={() => setDeleting(undefined)}>
                      Keep
                    </button>
                  </span>
                ) : (
                  <button type="button" class="ghost small" onClick={() => setDeleting(u.name)} data-testid="user-delete">
                    Delete
                  </button>
                ))}
            </li>
          ))}
        </ul>
      )}
      <form class="grid-form" onSubmit={add}>
        <h4>Add a user</h4>
        <label class="field">
          Name
          <input value={name} required maxLength={64} autocomplete="off" autocapitalize="none" onInput={(e) => setName(e.currentTarget.value)} data-testid="new-user-name" />
        </label>
        <label class="field">
          Password (at least {MIN_PASSWORD} characters)
          <input type="password" value={password} required minLength={MIN_PASSWORD} autocomplete="new-password" onInput={(e) => setPassword(e.currentTarget.value)} data-testid="new-user-password" />
        </label>
        <label class="field">
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)} data-testid="new-user-role">
            <option value="viewer">viewer: watches, sees events</option>
            <option value="admin">admin: also changes settings</option>
          </select>
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={act.busy} data-testid="new-user-add">
            Add user
          </button>
          <Status outcome={act.outcome} />
        </div>
      </form>
    </Section>
  );
}
