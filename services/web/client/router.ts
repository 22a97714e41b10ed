import { useEffect, useState } from "preact/hooks";

/** The tabs, in the order the navigation shows them. */
export const TABS = ["live", "events", "devices", "settings"] as const;
export type Tab = (typeof TABS)[number];

/** Where the page is: `#/<tab>` or `#/<tab>/<arg>` (an enlarged camera, the device in settings). */
export interface Route {
  tab: Tab;
  arg: string | undefined;
}

const isTab = (v: string | undefined): v is Tab => TABS.includes(v as Tab);

export function parseHash(hash: string): Route {
  const [tab, arg] = hash.replace(/^#\/?/, "").split("/");
  let decoded: string | undefined;
  try {
    decoded = arg === undefined || arg === "" ? undefined : decodeURIComponent(arg);
  } catch {
    decoded = undefined; // a mangled link: the tab without its argument
  }
  return isTab(tab) ? { tab, arg: decoded } : { tab: "live", arg: undefined };
}

export const href = (tab: Tab, arg?: string): string => `#/${tab}${arg === undefined ? "" : `/${encodeURIComponent(arg)}`}`;

/** Goes to a route; `replace` keeps it out of the history (a correction, not a step the back button undoes). */
export function navigate(tab: Tab, arg?: string, replace = false): void {
  const to = href(tab, arg);
  if (replace) {
    history.replaceState(history.state, "", to);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else location.hash = to;
}

/** The current route, following the address bar (links, back and forward buttons). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}
