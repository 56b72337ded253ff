// The overlay toggles of an image key, on one line whose height is kept from the start (no
// jump when the first image reveals its classes): box groups (with their line style), classes
// (with their colours), the score threshold, captions, and per mask its opacity and classes.
// The line scrolls sideways when narrow; "more" lets it wrap.
import { groupDash } from "./boxes";
import { checkbox, el, range, swatch } from "./dom";
import { classColor, className } from "./colors";
import { icon } from "./icons";
import type { ImageBundle } from "./loader";
import { isBackground } from "./masks";
import { maskOpacity, type OverlaySettings } from "./state";
import type { SharedView } from "./overlay";

/** A short line drawn as the group's boxes are (solid or dashed). */
function lineSample(dash: number[]): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "8");
  svg.setAttribute("class", "line-sample");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
  for (const [k, v] of Object.entries({ x1: "1", y1: "4", x2: "17", y2: "4", stroke: "currentColor", "stroke-width": "2" })) line.setAttribute(k, v);
  if (dash.length) line.setAttribute("stroke-dasharray", dash.map((d) => d / 2).join(" "));
  svg.append(line);
  return svg;
}

export class OverlayControls {
  readonly el = el("div", { class: "overlay-controls" });
  private readonly line = el("div", { class: "overlay-line" });
  private readonly more = el("button", { class: "overlay-more", type: "button", title: "Show every overlay control", "aria-label": "more overlay controls", "aria-expanded": "false" });
  private readonly groups = new Set<string>();
  private readonly classes = new Map<string, number | undefined>();
  private hasScores = false;
  private readonly masks = new Map<string, Map<number, string>>();

  constructor(
    private readonly settings: OverlaySettings,
    private readonly view: SharedView,
    private readonly changed: () => void,
  ) {
    this.more.append(icon("chevron", 12));
    this.more.addEventListener("click", () => {
      const open = this.el.classList.toggle("expanded");
      this.more.setAttribute("aria-expanded", String(open));
    });
    this.el.append(this.line, this.more);
    this.render();
  }

  /** Adds what a shown image holds; renders again only when something new turned up. */
  discover(bundle: ImageBundle): void {
    let fresh = false;
    for (const b of bundle.boxes) {
      if (!this.groups.has(b.group)) (this.groups.add(b.group), (fresh = true));
      if (!this.classes.has(b.label) || (this.classes.get(b.label) === undefined && b.classId !== undefined)) {
        this.classes.set(b.label, b.classId);
        fresh = true;
      }
      if (b.score !== undefined && !this.hasScores) (this.hasScores = true), (fresh = true);
    }
    for (const m of bundle.masks) {
      let known = this.masks.get(m.name);
      if (!known) {
        known = new Map();
        this.masks.set(m.name, known);
        fresh = true;
      }
      for (const id of m.classes) {
        if (isBackground(id, m.labels) || known.has(id)) continue;
        known.set(id, className(m.labels, id));
        fresh = true;
      }
    }
    if (fresh) this.render();
  }

  private render(): void {
    const s = this.settings;
    const parts: HTMLElement[] = [];
    const groups = [...this.groups].sort();
    if (groups.length) {
      parts.push(
        el(
          "span",
          { class: "row groups" },
          el("span", { class: "row-label" }, "Boxes"),
          ...groups.map((g) => {
            const box = checkbox(el("span", {}, lineSample(groupDash(g, groups)), g), !s.hiddenGroups.has(g), (on) => {
              if (on) s.hiddenGroups.delete(g);
              else s.hiddenGroups.add(g);
              this.changed();
            });
            box.dataset.group = g;
            return box;
          }),
          checkbox("labels", s.showCaptions, (on) => {
            s.showCaptions = on;
            this.changed();
          }),
        ),
      );
    }
    if (this.classes.size) {
      parts.push(
        el(
          "span",
          { class: "row classes" },
          el("span", { class: "row-label" }, "Classes"),
          ...[...this.classes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, id]) => {
            const chip = checkbox(el("span", {}, swatch(classColor(c, id)), c), !s.hiddenClasses.has(c), (on) => {
              if (on) s.hiddenClasses.delete(c);
              else s.hiddenClasses.add(c);
              this.changed();
            }, "chip");
            chip.dataset.class = c;
            return chip;
          }),
        ),
      );
    }
    if (this.hasScores) {
      const value = el("output", {}, s.scoreThreshold.toFixed(2));
      const r = range("Score ≥", 0, 1, 0.01, s.scoreThreshold, (v) => {
        s.scoreThreshold = v;
        value.textContent = v.toFixed(2);
        this.changed();
      }, "range threshold");
      r.el.append(value);
      parts.push(el("span", { class: "row" }, r.el));
    }
    for (const [name, classes] of [...this.masks].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const value = el("output", {}, maskOpacity(s, name).toFixed(2));
      const r = range(`Mask ${name}`, 0, 1, 0.05, maskOpacity(s, name), (v) => {
        s.maskOpacity.set(name, v);
        value.textContent = v.toFixed(2);
        this.changed();
      }, "range mask-opacity");
      r.el.dataset.mask = name;
      r.el.append(value);
      parts.push(
        el(
          "span",
          { class: "row mask" },
          r.el,
          ...[...classes].sort(([a], [b]) => a - b).map(([id, label]) => {
            const key = `${name}\u0000${id}`;
            return checkbox(el("span", {}, swatch(classColor(label, id)), label), !s.hiddenMaskClasses.has(key), (on) => {
              if (on) s.hiddenMaskClasses.delete(key);
              else s.hiddenMaskClasses.add(key);
              this.changed();
            }, "chip");
          }),
        ),
      );
    }
    const reset = el("button", { class: "small", type: "button", title: "Ctrl/Alt + wheel zooms, drag pans, double-click resets" }, "Reset zoom");
    reset.addEventListener("click", () => this.view.reset());
    parts.push(el("span", { class: "row" }, reset));
    if (!groups.length && !this.masks.size) parts.unshift(el("span", { class: "hint" }, "Ctrl/Alt + wheel: zoom · drag: pan · hover: boxes under the cursor"));
    this.line.replaceChildren(...parts);
  }
}
