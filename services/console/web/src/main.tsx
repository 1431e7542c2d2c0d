/** The console's single-page app: rendered into #app of index.html (no inline script: the CSP allows none). */
import { render } from "preact";
import { App } from "./app.js";

const root = document.getElementById("app");
if (root) render(<App />, root);
