// A tiny element builder: no innerHTML anywhere (logged names and captions are text).
type Child = Node | string | number | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return node;
}

/** A labelled range input. */
export function range(label: string, min: number, max: number, step: number, value: number, onInput: (v: number) => void, cls = "range"): { el: HTMLLabelElement; input: HTMLInputElement } {
  const input = el("input", { type: "range", min: String(min), max: String(max), step: String(step), value: String(value) });
  input.addEventListener("input", () => onInput(Number(input.value)));
  return { el: el("label", { class: cls }, el("span", {}, label), input), input };
}

export function checkbox(label: Child, checked: boolean, onChange: (on: boolean) => void, cls = "toggle"): HTMLLabelElement {
  const input = el("input", { type: "checkbox" });
  input.checked = checked;
  input.addEventListener("change", () => onChange(input.checked));
  return el("label", { class: cls }, input, label);
}

export function swatch(color: string): HTMLElement {
  const s = el("span", { class: "swatch" });
  s.style.background = color;
  return s;
}
