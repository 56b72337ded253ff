// Generated from schemas/html.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * media/html/<key>/<step>.json beside the page <step>.html. The page is not sanitised: viewers must show it in a sandboxed frame.
 */
export type HTMLSidecar = FieldsEveryMediaSidecarShares & {
  kind: "html";
  /**
   * @minItems 1
   * @maxItems 1
   */
  files: [
    {
      role?: "html";
      path?: {
        [k: string]: unknown | undefined;
      };
    }
  ];
  /**
   * true: dvcstage's default styles (inline <style data-dvcstage="html-default">) and <base target="_blank"> were added to the head; false: the bytes are exactly as logged.
   */
  inject: boolean;
  /**
   * Size of the page in bytes.
   */
  bytes: number;
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
