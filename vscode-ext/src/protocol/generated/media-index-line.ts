// Generated from schemas/media-index-line.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

export type RelativePath = string;

/**
 * One line of a run's append-only media index (<run dir>/media.jsonl): one written item. Paths are POSIX, relative to the run directory. A reader takes the last line for each (key, step, item) and ignores a torn last line.
 */
export interface MediaIndexLine {
  v: 1;
  step: number;
  key: string;
  /**
   * Position within a list logged under one key at one step.
   */
  item?: number;
  kind: "image" | "histogram" | "audio" | "video" | "table" | "html" | "object3d" | "molecule";
  /**
   * @minItems 1
   */
  files: [
    {
      path: RelativePath;
      role: string;
      name?: string;
      bytes: number;
      /**
       * The schema in schemas/ this JSON file matches (without .schema.json).
       */
      schema?: string;
    },
    ...{
      path: RelativePath;
      role: string;
      name?: string;
      bytes: number;
      /**
       * The schema in schemas/ this JSON file matches (without .schema.json).
       */
      schema?: string;
    }[]
  ];
  width?: number;
  height?: number;
  sidecar?: RelativePath | null;
  time?: number;
  /**
   * Kind-specific facts (bins, duration, frames, rows, points, ...).
   */
  facts?: {};
}
