// The media panel's entry point (placeholder until the panel lands).
const app = document.getElementById("app");
if (app) app.textContent = "DVC Media";
