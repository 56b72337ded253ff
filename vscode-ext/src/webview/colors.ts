// Stable per-class colours: a class's colour depends only on its name (or, without a name,
// its id), so "cat" has the same colour in every run, step, box group and mask.

/** 20 colours picked to be told apart (Sasha Trubetskoy's list, without white and black). */
export const PALETTE = [
  "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c", "#fabebe",
  "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3", "#808000", "#ffd8b1", "#000075", "#808080",
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

export function classColor(name: string): string {
  return PALETTE[hashString(name) % PALETTE.length] as string;
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

/** Black or white, whichever reads better on `hex` (relative luminance). */
export function textColorOn(hex: string): string {
  const [r, g, b] = rgbOf(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.35 ? "#000" : "#fff";
}
