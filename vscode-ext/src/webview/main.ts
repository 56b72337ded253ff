// The media panel's entry point (docs/panel-host.md): the transport named by <body>, then the app.
import "./panel.css";
import { App } from "./app";
import { transportFromBody } from "./transport";

const root = document.getElementById("app");
if (root) {
  const app = new App(root, transportFromBody(document.body));
  // For the browser tests and the measurement script (not an API).
  (window as unknown as { dvcstagePanel: App }).dvcstagePanel = app;
  void app.start();
}
