// The media panel's entry point (docs/panel-host.md): the host named by <body>, then the app.
import "./panel.css";
import { App } from "./app";
import { storeFor } from "./store";
import { hostFromBody } from "./transport";

const root = document.getElementById("app");
if (root) {
  const host = hostFromBody(document.body);
  const app = new App(root, host.transport, storeFor(host, document.body));
  // For the browser tests and the measurement script (not an API).
  (window as unknown as { dvcstagePanel: App }).dvcstagePanel = app;
  void app.start();
}
