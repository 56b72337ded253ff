// Which view shows which media kind. A new kind: a file under views/ and a line here.
import { imageCell } from "./image";
import type { CellFactory } from "./types";

export const FACTORIES: Record<string, CellFactory> = {
  image: imageCell,
};
