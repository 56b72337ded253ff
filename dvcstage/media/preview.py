"""Annotated previews: an image with its overlays drawn in, for DVC's own renderers.

``dvc plots show/diff`` and DVC Studio draw image files as they are; they know nothing of
sidecars. So for each image of a run that has overlays, the writer also renders a preview
into ``plots/previews/`` (the folder ``dvc.yaml`` lists): masks blended, boxes in their class
colours with label and score, the caption in a band below. Class colours come from
:mod:`dvcstage.media.palette`, the panel's palette, so both look alike. Runs in the writer
process, never on the training thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from .base import IMAGES_FOLDER, PREVIEWS_FOLDER
from .palette import class_rgb

#: Previews are drawn with their long side between these (small images are enlarged with
#: nearest-neighbour pixels so labels stay legible; large ones are shrunk).
MIN_SIDE, MAX_SIDE = 256, 1024
MASK_ALPHA = 0.45
_JPEG_QUALITY = 88


@dataclass(frozen=True)
class DrawnBox:
    """A box in image pixels, with what its label shows."""

    left: float
    top: float
    right: float
    bottom: float
    label: str
    class_key: str | int
    score: float | None
    dashed: bool


#: A drawn preview is a JPEG (small, and fast to write); an image without overlays is
#: shown as itself, under its own name.
DRAWN_SUFFIX = ".jpg"


def preview_path(image_path: PurePosixPath, drawn: bool) -> PurePosixPath:
    """``plots/images/pred/3.png`` -> ``plots/previews/pred/3.jpg`` (drawn) or ``3.png``."""
    path = PREVIEWS_FOLDER / image_path.relative_to(IMAGES_FOLDER)
    return path.with_suffix(DRAWN_SUFFIX) if drawn else path


def preview_paths(image_path: PurePosixPath) -> tuple[PurePosixPath, ...]:
    """Both places an image's preview may be (an earlier write may have left either)."""
    return preview_path(image_path, True), preview_path(image_path, False)


def _annotation_boxes(annotations: dict[str, list[dict[str, object]]]) -> list[DrawnBox]:
    boxes = []
    for label, entries in annotations.items():
        for entry in entries:
            box = entry["box"]
            assert isinstance(box, dict)
            score = entry.get("score")
            boxes.append(
                DrawnBox(
                    float(box["left"]),
                    float(box["top"]),
                    float(box["right"]),
                    float(box["bottom"]),
                    label,
                    label,
                    float(score) if isinstance(score, (int, float)) else None,
                    dashed=False,
                )
            )
    return boxes


def _wandb_boxes(groups: dict[str, dict[str, object]], width: int, height: int) -> list[DrawnBox]:
    boxes = []
    # Ground truth solid, every other group (predictions) dashed: they stay apart.
    for group, content in groups.items():
        labels = content.get("class_labels") or {}
        assert isinstance(labels, dict)
        truth = "truth" in group.lower() or group.lower() in ("gt", "ground_truth", "labels")
        box_data = content.get("box_data", [])
        assert isinstance(box_data, list)
        for box in box_data:
            position = box["position"]
            scale_x, scale_y = (1, 1) if box.get("domain") == "pixel" else (width, height)
            if "minX" in position:
                left, right = position["minX"] * scale_x, position["maxX"] * scale_x
                top, bottom = position["minY"] * scale_y, position["maxY"] * scale_y
            else:
                (cx, cy), w, h = position["middle"], position["width"], position["height"]
                left, right = (cx - w / 2) * scale_x, (cx + w / 2) * scale_x
                top, bottom = (cy - h / 2) * scale_y, (cy + h / 2) * scale_y
            class_id = int(box["class_id"])
            name = labels.get(class_id, labels.get(str(class_id), f"class_{class_id}"))
            caption = box.get("box_caption")
            scores = box.get("scores") or {}
            score = next(iter(scores.values()), None) if scores else None
            boxes.append(
                DrawnBox(
                    left,
                    top,
                    right,
                    bottom,
                    str(caption) if caption else str(name),
                    class_id,
                    # A caption usually carries its score already ("person 0.87").
                    float(score) if score is not None and not caption else None,
                    dashed=not truth,
                )
            )
    return boxes


@cache
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _scale_for(width: int, height: int) -> float:
    side = max(width, height)
    if side < MIN_SIDE:
        return float(max(1, MIN_SIDE // side))
    if side > MAX_SIDE:
        return MAX_SIDE / side
    return 1.0


def _dashed_rectangle(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    fill: tuple[int, ...],
    width: int,
) -> None:
    left, top, right, bottom = box
    dash = 6 * width
    for x0, y0, x1, y1 in ((left, top, right, top), (right, top, right, bottom),
                           (left, bottom, right, bottom), (left, top, left, bottom)):  # fmt: skip
        length = max(abs(x1 - x0), abs(y1 - y0))
        steps = max(1, int(length // dash))
        for i in range(0, steps, 2):
            a, b = i / steps, min(1.0, (i + 1) / steps)
            draw.line(
                (x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b),
                fill=fill,
                width=width,
            )


def _blend_masks(canvas: np.ndarray, masks: list[tuple[np.ndarray, dict[str, str]]]) -> None:
    """Blend each mask's classes over ``canvas`` (H x W x 3 floats), each against the clean
    image, so two masks never stack into an opaque colour (each covers at most
    ``MASK_ALPHA``). Class 0 labelled as background (or unlabelled) is left clear."""
    base = canvas.copy()
    for class_ids, labels in masks:
        for class_id in np.unique(class_ids):
            if class_id == 0 and labels.get("0", "background").lower() in ("background", "bg"):
                continue
            where = class_ids == class_id
            colour = np.array(class_rgb(int(class_id)), np.float32)
            canvas[where] = base[where] * (1 - MASK_ALPHA) + colour * MASK_ALPHA


def render_preview(
    pixels: PILImage.Image,
    *,
    annotations: dict[str, list[dict[str, object]]] | None,
    boxes: dict[str, dict[str, object]] | None,
    masks: list[tuple[np.ndarray, dict[str, str]]],
    caption: str | None,
) -> bytes:
    """The preview's bytes: a JPEG without chroma subsampling (colours stay crisp at the
    boxes' thin lines)."""
    rgb = pixels.convert("RGB")
    width, height = rgb.size
    canvas = np.asarray(rgb, dtype=np.float32)
    if masks:
        canvas = canvas.copy()
        _blend_masks(canvas, masks)
    drawn = PILImage.fromarray(canvas.clip(0, 255).astype(np.uint8))
    scale = _scale_for(width, height)
    if scale != 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resample = PILImage.Resampling.NEAREST if scale > 1 else PILImage.Resampling.LANCZOS
        drawn = drawn.resize(size, resample)
    font_size = max(11, min(18, drawn.width // 24))
    font = _font(font_size)
    draw = ImageDraw.Draw(drawn)
    line = max(2, drawn.width // 200)
    found = _annotation_boxes(annotations or {}) + _wandb_boxes(boxes or {}, width, height)
    rects = [(b.left * scale, b.top * scale, b.right * scale, b.bottom * scale) for b in found]
    for box, rect in zip(found, rects, strict=True):  # every box, then every label on top
        if box.dashed:
            _dashed_rectangle(draw, rect, class_rgb(box.class_key), line)
        else:
            draw.rectangle(rect, outline=class_rgb(box.class_key), width=line)
    placed: list[tuple[float, float, float, float]] = []
    for box, rect in zip(found, rects, strict=True):
        colour = class_rgb(box.class_key)
        text = _spaced(box.label if box.score is None else f"{box.label} {box.score:.2f}")
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tag_w, tag_h = right - left + 4, bottom - top + 4
        x = max(0.0, min(rect[0], drawn.width - tag_w))
        y = rect[1] - tag_h if rect[1] - tag_h >= 0 else rect[1]
        # Move a label down past labels already placed, so none hides another.
        while any(_overlaps((x, y, x + tag_w, y + tag_h), other) for other in placed):
            y += tag_h
        placed.append((x, y, x + tag_w, y + tag_h))
        draw.rectangle((x, y, x + tag_w, y + tag_h), fill=colour)
        draw.text((x + 2, y + 2 - top), text, font=font, fill=_text_on(colour))
    if caption:
        drawn = _with_caption(drawn, caption, font)
    buffer = io.BytesIO()
    drawn.save(buffer, format="JPEG", quality=_JPEG_QUALITY, subsampling=0)
    return buffer.getvalue()


def _with_caption(
    image: PILImage.Image, caption: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont
) -> PILImage.Image:
    probe = ImageDraw.Draw(image)
    text = _spaced(caption.replace("\n", " "))
    while len(text) > 1 and probe.textlength(text, font=font) > image.width - 8:
        text = text[:-2] + "…"
    _, top, _, bottom = probe.textbbox((0, 0), text, font=font)
    band = int(bottom - top) + 8
    out = PILImage.new("RGB", (image.width, image.height + band), (32, 32, 32))
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((4, image.height + 4 - top), text, font=font, fill=(240, 240, 240))
    return out


def _spaced(text: str) -> str:
    """Pillow's built-in font has a narrow space, lost at small sizes: widen it."""
    return text.replace(" ", "  ")


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _text_on(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = (c / 255 for c in colour)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (0, 0, 0) if luminance > 0.45 else (255, 255, 255)
