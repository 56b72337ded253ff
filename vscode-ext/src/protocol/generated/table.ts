// Generated from schemas/table.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * A logged table: media/table/<key>/<step>.json. Media cells are files in <step>.cells/, referenced by path relative to this file's folder.
 */
export type Table = FieldsEveryMediaSidecarShares & {
  kind?: "table";
  /**
   * @minItems 1
   */
  columns: [string, ...string[]];
  data: Cell[][];
};
export type Cell =
  | (null | boolean | number | string)
  | {
      _type: "image" | "audio" | "video" | "html" | "object3d" | "molecule";
      path: string;
      files: string[];
    };

/**
 * Each item has a sidecar <stem>.json beside its files: media/<kind>/<key>/<step>.json, or plots/images/<key>/<step>.json for an image with overlays (a plain image has none). A kind's schema combines this one (allOf) with its own fields and closes the object with unevaluatedProperties: false.
 */
export interface FieldsEveryMediaSidecarShares {
  kind: "image" | "histogram" | "audio" | "video" | "table" | "html" | "object3d" | "molecule";
  key: string;
  step: number;
  item?: number;
  caption?: string;
  /**
   * The item's other files, relative to the sidecar's folder.
   */
  files: {
    path: string;
    role: string;
    name?: string;
  }[];
}
