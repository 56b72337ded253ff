// Generated from schemas/pts.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * @minItems 3
 */
export type Xyz = never[];
/**
 * @minItems 4
 */
export type XyzCategory = never[];
/**
 * @minItems 6
 */
export type XyzRgb = never[];
/**
 * @minItems 3
 * @maxItems 3
 */
export type Rgb = [Channel, Channel, Channel];
export type Channel = number;

/**
 * The payload of an Object3D made from a point array, a lidar/beta scene or a pts.json file (media/object3d/<key>/<step>.pts.json). One JSON object, written without spaces. 'points' holds every point logged (viewers may draw fewer); all points of one document have the same width: [x, y, z], [x, y, z, category] with category an integer 1..14, or [x, y, z, r, g, b] with r, g, b in 0..255. A 'points' document is a bare point cloud; a 'lidar/beta' document adds 3D boxes and vectors (both always present, possibly empty).
 */
export interface PointCloudOrLidarSceneStepPtsJson {
  type: "points" | "lidar/beta";
  points: Xyz[] | XyzCategory[] | XyzRgb[];
  boxes?: Box[];
  vectors?: Vector[];
}
/**
 * A 3D box: its 8 corners (any order; box3d() writes W&B's order), its colour, an optional label and score.
 */
export interface Box {
  /**
   * @minItems 8
   * @maxItems 8
   */
  corners: [Xyz, Xyz, Xyz, Xyz, Xyz, Xyz, Xyz, Xyz];
  color: Rgb;
  label?: string;
  score?: number;
}
/**
 * An arrow from start to end.
 */
export interface Vector {
  start: Xyz;
  end: Xyz;
}
