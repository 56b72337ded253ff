// Icons as inline SVG built with the DOM (no font glyphs: Debian's Chromium has no emoji font,
// and "⏸" drew as an empty box). 16x16 view box, drawn in currentColor.
const SVG = "http://www.w3.org/2000/svg";

const PATHS: Record<string, string> = {
  play: "M4 2.5v11l9-5.5z",
  pause: "M3.5 2.5h3v11h-3zM9.5 2.5h3v11h-3z",
  prev: "M10.5 3 5.5 8l5 5",
  next: "M5.5 3l5 5-5 5",
  chevron: "M4 6l4 4 4-4",
  fullscreen: "M2.5 6V2.5H6M10 2.5h3.5V6M13.5 10v3.5H10M6 13.5H2.5V10",
  exit: "M6 2.5V6H2.5M13.5 6H10V2.5M10 13.5V10h3.5M2.5 10H6v3.5",
  menu: "M3 4h10M3 8h10M3 12h10",
  grip: "M6 3.5h.01M10 3.5h.01M6 8h.01M10 8h.01M6 12.5h.01M10 12.5h.01",
  close: "M4 4l8 8M12 4l-8 8",
  warning: "M8 1.8 15 14H1zM8 6v4M8 12h.01",
  runs: "M2.5 4h11M2.5 8h11M2.5 12h11M5 2.5v3M9 6.5v3M6 10.5v3",
  log: "M2.5 13.5h11M2.5 13.5v-11M4.5 11c2-5 5-7.5 8-8",
};
const FILLED = new Set(["play", "pause"]);

export function icon(name: keyof typeof PATHS | string, size = 14): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", String(size));
  svg.setAttribute("height", String(size));
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name] ?? "");
  if (FILLED.has(name)) path.setAttribute("fill", "currentColor");
  else {
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", name === "grip" ? "2.2" : "1.6");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
  }
  svg.append(path);
  return svg;
}

/** A button holding an icon, labelled for assistive technology and with a tooltip. */
export function iconButton(name: string, label: string, cls = "icon-button"): HTMLButtonElement {
  const button = document.createElement("button");
  button.className = cls;
  button.type = "button";
  button.title = label;
  button.setAttribute("aria-label", label);
  button.append(icon(name));
  return button;
}
