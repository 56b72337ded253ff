// The overlay toggles of an image key: box groups, classes (with their colours), the score
// threshold, captions, and per mask its opacity and classes. Grows as images reveal classes.
import { checkbox, el, range, swatch } from "./dom";
import { classColor, className } from "./colors";
import type { ImageBundle } from "./loader";
import { isBackground } from "./masks";
import { maskOpacity, type OverlaySettings } from "./state";
import type { SharedView } from "./overlay";

export class OverlayControls {
  readonly el = el("div", { class: "overlay-controls" });
  private readonly groups = new Set<string>();
  private readonly classes = new Set<string>();
  private hasScores = false;
  private readonly masks = new Map<string, Map<number, string>>();

  constructor(
    private readonly settings: OverlaySettings,
    private readonly view: SharedView,
    private readonly changed: () => void,
  ) {}

  /** Adds what a shown image holds; renders again only when something new turned up. */
  discover(bundle: ImageBundle): void {
    let fresh = false;
    for (const b of bundle.boxes) {
      if (!this.groups.has(b.group)) (this.groups.add(b.group), (fresh = true));
      if (!this.classes.has(b.label)) (this.classes.add(b.label), (fresh = true));
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
    const rows: HTMLElement[] = [];
    if (this.groups.size) {
      rows.push(
        el(
          "div",
          { class: "row groups" },
          el("span", { class: "row-label" }, "Boxes"),
          ...[...this.groups].sort().map((g) =>
            checkbox(g, !s.hiddenGroups.has(g), (on) => {
              if (on) s.hiddenGroups.delete(g);
              else s.hiddenGroups.add(g);
              this.changed();
            }),
          ),
          checkbox("captions", s.showCaptions, (on) => {
            s.showCaptions = on;
            this.changed();
          }),
        ),
      );
      rows.push(
        el(
          "div",
          { class: "row classes" },
          el("span", { class: "row-label" }, "Classes"),
          ...[...this.classes].sort().map((c) => {
            const chip = checkbox(el("span", {}, swatch(classColor(c)), c), !s.hiddenClasses.has(c), (on) => {
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
      rows.push(el("div", { class: "row" }, r.el));
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
      rows.push(
        el(
          "div",
          { class: "row mask" },
          r.el,
          ...[...classes].sort(([a], [b]) => a - b).map(([id, label]) => {
            const key = `${name}\u0000${id}`;
            return checkbox(el("span", {}, swatch(classColor(label)), label), !s.hiddenMaskClasses.has(key), (on) => {
              if (on) s.hiddenMaskClasses.delete(key);
              else s.hiddenMaskClasses.add(key);
              this.changed();
            }, "chip");
          }),
        ),
      );
    }
    if (rows.length || this.masks.size === 0) {
      const reset = el("button", { class: "small", title: "Ctrl/Alt + wheel zooms, drag pans, double-click resets" }, "Reset zoom");
      reset.addEventListener("click", () => this.view.reset());
      rows.push(el("div", { class: "row" }, reset, el("span", { class: "hint" }, "Ctrl/Alt + wheel: zoom · drag: pan · hover: scores")));
    }
    this.el.replaceChildren(...rows);
  }
}
