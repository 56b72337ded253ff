// Colours of classes and runs: distinct, saturated, and readable in both themes (each has a
// contrast of at least 3:1 against a white and a near-black background, test/unit checks it).
// A class's colour depends on its class id (W&B's class_id, a mask's pixel value), else on its
// name, so the same class has the same colour in every run, step, box group and mask.

/** Class colours, by class id modulo their number. */
export const PALETTE = [
  "#e6194b", "#1f77d0", "#2e9e44", "#d4640a", "#9b4fdc", "#0f9b9b",
  "#d6338c", "#8a7a00", "#6b6fe0", "#a0522d", "#5f8a00",
] as const;

/** Run colours, given out in this order to the runs chosen (and kept per run). */
export const RUN_PALETTE = [
  "#3b82f6", "#d9650a", "#16a34a", "#dc2626", "#a050e8",
  "#0891b2", "#db2777", "#a16207", "#6366f1", "#059669",
] as const;

/** FNV-1a, 32 bit. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A class's colour: by its id when it has one, else by its name. */
export function classColor(name: string, classId?: number): string {
  const slot = classId !== undefined && Number.isInteger(classId) && classId >= 0 ? classId : hashString(name);
  return PALETTE[slot % PALETTE.length] as string;
}

/** "#rrggbb" -> [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** The name a class is known by: its label, else "class <id>". */
export function className(labels: Record<string, string | undefined> | undefined, classId: number): string {
  return labels?.[String(classId)] ?? `class ${classId}`;
}

/** WCAG relative luminance of "#rrggbb". */
export function luminance(hex: string): number {
  const [r, g, b] = rgbOf(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours (1..21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Black or white, whichever reads better on `hex`. */
export function textColorOn(hex: string): string {
  return contrast(hex, "#000000") > contrast(hex, "#ffffff") ? "#000" : "#fff";
}

/**
 * Colours for the runs in `chosen`: a run keeps the palette slot it had (`kept`), a new run
 * gets the first slot no chosen run uses. Returns run -> slot, for every chosen run.
 */
export function assignRunColors(chosen: readonly string[], kept: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  const used = new Set<number>();
  for (const run of chosen) {
    const slot = kept[run];
    if (slot !== undefined && !used.has(slot % RUN_PALETTE.length)) {
      out[run] = slot % RUN_PALETTE.length;
      used.add(out[run]);
    }
  }
  for (const run of chosen) {
    if (out[run] !== undefined) continue;
    let slot = 0;
    while (used.has(slot) && slot < RUN_PALETTE.length) slot++;
    if (slot >= RUN_PALETTE.length) slot = hashString(run) % RUN_PALETTE.length; // more runs than colours
    out[run] = slot;
    used.add(slot);
  }
  return out;
}
