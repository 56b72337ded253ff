// Which view shows which media kind. A new kind: a file under views/ and a line here.
import { audioCell, videoCell } from "./audio";
import { histogramCell } from "./histogram";
import { htmlCell } from "./html";
import { imageCell } from "./image";
import { moleculeCell } from "./molecule";
import { object3dCell } from "./object3d";
import { tableCell } from "./table";
import type { CellFactory } from "./types";

export const FACTORIES: Record<string, CellFactory> = {
  image: imageCell,
  histogram: histogramCell,
  audio: audioCell,
  video: videoCell,
  html: htmlCell,
  table: tableCell,
  object3d: object3dCell,
  molecule: moleculeCell,
};
