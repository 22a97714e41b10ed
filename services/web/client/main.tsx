import { render } from "preact";
import { App } from "./app.js";
import "./style.css";

// Players on the page, for people and tests that look under the hood (tiles fill it).
window.picket = { players: {} };

render(<App />, document.getElementById("app") as HTMLElement);
