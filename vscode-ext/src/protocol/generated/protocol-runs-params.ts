// Generated from schemas/protocol-runs-params.schema.json by scripts/gen-types.mjs (npm run gen-types). Do not edit.

/**
 * No params: null or an empty object.
 */
export type DvcstageRunsParams = null | {};
