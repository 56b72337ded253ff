// Generated from schemas/protocol-items-result.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * An item's result, or the error asking for it alone would have had.
 */
export type ItemAnswer =
  | {
      result: DvcstageItemResult;
    }
  | {
      error: {
        /**
         * A JSON-RPC error code (see Errors).
         */
        code: number;
        message: string;
      };
    };

/**
 * One answer per requested item, in the order asked: the item's dvcstage/item result, or the error that request alone would have had.
 */
export interface DvcstageItemsResult {
  items: ItemAnswer[];
}
/**
 * An item's files with their roles and URIs, its sidecar as written (an image's boxes, masks, caption and annotations; another kind's facts), and the sidecar's paths resolved to URIs.
 */
export interface DvcstageItemResult {
  /**
   * A run id from dvcstage/runs (workspace:<dir> for a run in the workspace).
   */
  run: string;
  key: string;
  step: number;
  /**
   * Position within a list logged under one key at one step.
   */
  item?: number;
  kind: string;
  files: {
    /**
     * image, mask, sidecar, series, audio, video, ...
     */
    role: string;
    /**
     * As in the index: relative to the run folder.
     */
    path: string;
    uri: string;
    bytes: number;
    exists: boolean;
    /**
     * A mask's name, a file's own name.
     */
    name?: string;
    /**
     * The schema this JSON file matches.
     */
    schema?: string;
    /**
     * The file's bytes, base64. Never sent by the language server: a host may attach them (dvcstage view does, to the small images of a dvcstage/items answer) so that the panel need not fetch the file.
     */
    data?: string;
  }[];
  /**
   * The parsed sidecar (schemas/image-sidecar.schema.json for images, schemas/<kind>.schema.json otherwise); null when the item has none or it cannot be read (see problems).
   */
  sidecar: {} | null;
  links: {
    /**
     * JSON pointer of the path inside the sidecar, e.g. /masks/truth/path.
     */
    pointer: string;
    uri: string;
    exists: boolean;
  }[];
  width?: number;
  height?: number;
  facts?: {};
  time?: number;
  /**
   * Why a file or the sidecar was left out (a path leading outside the workspace, a sidecar that is not JSON, ...).
   */
  problems: string[];
}
