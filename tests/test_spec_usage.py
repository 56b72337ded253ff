"""The usages of ``/work/shared/spec/dvclive-log-image.md`` (the binding spec), end to end.

Every test runs ``dvcstage.Live`` inside a real git + DVC repository (the ``repo`` fixture),
reads back what landed on disk, and checks ``dvcstage validate .`` accepts it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
from conftest import run
from PIL import Image as PILImage
from ruamel.yaml import YAML

import dvcstage
from dvcstage import Live, read_image

matplotlib.use("Agg")

IMAGES = Path("dvclive/plots/images")


def load_yaml(text: str) -> Any:
    """Parse YAML with ruamel.yaml (a direct dependency of DVC and DVCLive)."""
    return YAML(typ="safe", pure=True).load(text)


# The spec lives in shared/ beside the repository clone (as CI lays it out).
SPEC_CANDIDATES = [
    Path(os.environ.get("DVCSTAGE_SPEC", "/nonexistent")),
    Path(__file__).resolve().parents[2] / "shared/spec/dvclive-log-image.md",
    Path("/work/shared/spec/dvclive-log-image.md"),
]
SPEC = next((p for p in SPEC_CANDIDATES if p.is_file()), None)

# A copy of the spec's JSON example, used only where the spec file is not available
# (``test_fallback_copy_matches_spec`` keeps the two identical).
SPEC_ANNOTATIONS_FALLBACK = {
    "cat": [
        {"box": {"top": 10, "left": 20, "bottom": 100, "right": 200}, "score": 0.9},
        {"box": {"top": 50, "left": 40, "bottom": 230, "right": 400}, "score": 0.7},
    ],
    "dog": [{"box": {"top": 100, "left": 120, "bottom": 310, "right": 400}, "score": 0.8}],
}

SPEC_ANNOTATIONS_ARGUMENT = {
    "boxes": [[10, 20, 100, 200], [100, 120, 310, 400], [50, 40, 230, 400]],
    "labels": ["cat", "dog", "cat"],
    "scores": [0.9, 0.8, 0.7],
    "box_format": "tlbr",
}


def spec_text() -> str:
    if SPEC is None:
        pytest.skip("the spec dvclive-log-image.md is not beside this checkout")
    return SPEC.read_text(encoding="utf-8")


def spec_code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", spec_text(), flags=re.DOTALL)


def spec_annotations() -> dict[str, Any]:
    """The ``annotations`` value of the spec's JSON example."""
    if SPEC is None:
        return SPEC_ANNOTATIONS_FALLBACK
    (block,) = spec_code_blocks("json")
    document = json.loads(block)
    assert list(document) == ["annotations"]
    return document["annotations"]


def assert_valid(root: Path | str = ".") -> None:
    result = run("dvcstage", "validate", str(root), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def pixels(path: Path | str) -> np.ndarray:
    with PILImage.open(path) as image:
        return np.asarray(image).copy()


def sidecar(name: str) -> dict[str, Any]:
    return json.loads((IMAGES / name).read_text(encoding="utf-8"))


def make_sample(path: str, size: tuple[int, int] = (40, 30), fmt: str | None = None) -> bytes:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    gradient = np.arange(size[0] * size[1] * 3, dtype=np.uint32).reshape(size[1], size[0], 3)
    PILImage.fromarray((gradient % 251).astype(np.uint8)).save(path, format=fmt)
    return Path(path).read_bytes()


# -- the four usages -----------------------------------------------------------------------


def test_four_usages_with_cache_images(repo: Path) -> None:
    from matplotlib import pyplot as plt

    sample_bytes = make_sample("run/batch_0_sample.png")
    with Live(cache_images=True) as live:
        img_numpy = np.ones((500, 500), np.uint8) * 255
        live.log_image("numpy.png", img_numpy)

        fig, ax = plt.subplots()
        ax.plot([1, 2, 3, 4])
        fig_size = fig.canvas.get_width_height()
        live.log_image("matplotlib.png", fig)

        img_pil = PILImage.new("RGB", (500, 500), (250, 250, 250))
        live.log_image("pil.png", img_pil)

        live.log_image("sample.png", "run/batch_0_sample.png")

    names = {"numpy.png", "matplotlib.png", "pil.png", "sample.png"}
    assert {p.name for p in IMAGES.iterdir()} == names  # no sidecar: nothing but pixels
    numpy_px = pixels(IMAGES / "numpy.png")
    assert numpy_px.shape == (500, 500) and (numpy_px == 255).all()
    pil_px = pixels(IMAGES / "pil.png")
    assert pil_px.shape == (500, 500, 3) and (pil_px == 250).all()
    with PILImage.open(IMAGES / "matplotlib.png") as fig_png:
        assert fig_png.format == "PNG"
        assert fig_png.size == fig_size
    assert (IMAGES / "sample.png").read_bytes() == sample_bytes  # an image file is stored as is

    # cached as part of Live.end(): a .dvc file, and the folder ignored by git
    dvc_file = load_yaml(Path("dvclive/plots/images.dvc").read_text())
    (out,) = dvc_file["outs"]
    assert out["path"] == "images"
    assert out["nfiles"] == 4
    assert out["md5"].endswith(".dir")
    gitignore = Path("dvclive/plots/.gitignore").read_text().splitlines()
    assert "/images" in gitignore
    md5 = out["md5"]
    assert (repo / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).is_file()
    check_ignore = run("git", "check-ignore", "-q", "dvclive/plots/images/numpy.png", check=False)
    assert check_ignore.returncode == 0
    assert_valid()


def test_spec_code_blocks_run_verbatim(repo: Path) -> None:
    """The spec's own Python examples, with ``dvclive.Live`` swapped for ``dvcstage.Live``."""
    blocks = [b for b in spec_code_blocks("py") if "with Live(" in b]
    assert len(blocks) == 3  # usage, images per step, annotations
    make_sample("run/batch_0_sample.png")
    # each block starts a new run (resume=False), which clears the previous block's images
    checks = [
        lambda: (
            {"numpy.png", "matplotlib.png", "pil.png", "sample.png"}
            <= {p.name for p in IMAGES.iterdir()}
            and Path("dvclive/plots/images.dvc").is_file()
        ),
        lambda: all((pixels(IMAGES / f"numpy/{i}.png") == i * 10).all() for i in range(10)),
        lambda: sidecar("numpy.json")["annotations"] == spec_annotations(),
    ]
    for block, check in zip(blocks, checks, strict=True):
        assert "from dvclive import Live" in block
        code = block.replace("from dvclive import Live", "from dvcstage import Live")
        exec(compile(code, str(SPEC), "exec"), {})
        assert check(), block
        assert_valid()


def test_fallback_copy_matches_spec() -> None:
    (block,) = spec_code_blocks("json")
    assert json.loads(block)["annotations"] == SPEC_ANNOTATIONS_FALLBACK


# -- images per step -----------------------------------------------------------------------


def test_images_per_step(repo: Path) -> None:
    with Live(save_dvc_exp=False) as live:
        base_img = np.ones((500, 500), np.uint8)
        for i in range(10):
            live.log_image(f"numpy/{live.step}.png", base_img * i * 10)
            live.next_step()

    files = sorted((IMAGES / "numpy").iterdir(), key=lambda p: int(p.stem))
    assert [p.name for p in files] == [f"{i}.png" for i in range(10)]
    for i, path in enumerate(files):
        px = pixels(path)
        assert px.shape == (500, 500)
        assert (px == i * 10).all(), path
    dvcyaml = load_yaml(Path("dvc.yaml").read_text())
    # One folder entry, as DVCLive writes it, however many steps: dvc.yaml does not grow.
    assert [e for e in dvcyaml["plots"] if "images" in str(e)] == ["dvclive/plots/images"]
    assert_valid()


# -- annotations ---------------------------------------------------------------------------


def test_annotations_sidecar_equals_spec_json(repo: Path) -> None:
    with Live(save_dvc_exp=False) as live:
        base_img = np.ones((500, 500), np.uint8)
        live.log_image(name="numpy.png", val=base_img, annotations=SPEC_ANNOTATIONS_ARGUMENT)

    assert (IMAGES / "numpy.png").is_file()
    document = sidecar("numpy.json")
    assert document["annotations"] == spec_annotations()
    # exact JSON types too: ints stay ints, scores stay floats
    assert json.dumps(document["annotations"], sort_keys=True) == json.dumps(
        spec_annotations(), sort_keys=True
    )
    assert read_image(IMAGES / "numpy.png").annotations == spec_annotations()
    assert_valid()


def test_four_box_formats_give_identical_sidecars(repo: Path) -> None:
    # (top, left, bottom, right); the last box has odd sides, so xywh has .5 centres
    tlbr = [[10, 20, 100, 200], [100, 120, 310, 400], [50, 40, 230, 400], [1, 2, 4, 7]]
    formats = {
        "tlbr": tlbr,
        "ltrb": [[left, top, right, bottom] for top, left, bottom, right in tlbr],
        "tlhw": [[top, left, bottom - top, right - left] for top, left, bottom, right in tlbr],
        # xywh is [center_x, center_y, width, height]: x is horizontal (left/right)
        "xywh": [
            [(left + right) / 2, (top + bottom) / 2, right - left, bottom - top]
            for top, left, bottom, right in tlbr
        ],
    }
    assert formats["xywh"][3] == [4.5, 2.5, 5, 3]
    labels = ["cat", "dog", "cat", "bird"]
    scores = [0.9, 0.8, 0.7, 0.25]
    with Live(save_dvc_exp=False) as live:
        img = np.zeros((500, 500), np.uint8)
        for box_format, boxes in formats.items():
            live.log_image(
                f"{box_format}.png",
                img,
                annotations={
                    "boxes": boxes,
                    "labels": labels,
                    "scores": scores,
                    "box_format": box_format,
                },
            )

    texts = {f: (IMAGES / f"{f}.json").read_text(encoding="utf-8") for f in formats}
    documents = {f: json.loads(t) for f, t in texts.items()}
    assert documents["tlbr"]["annotations"] == {
        "cat": [
            {"box": {"top": 10, "left": 20, "bottom": 100, "right": 200}, "score": 0.9},
            {"box": {"top": 50, "left": 40, "bottom": 230, "right": 400}, "score": 0.7},
        ],
        "dog": [{"box": {"top": 100, "left": 120, "bottom": 310, "right": 400}, "score": 0.8}],
        "bird": [{"box": {"top": 1, "left": 2, "bottom": 4, "right": 7}, "score": 0.25}],
    }

    def overlays(name: str) -> str:  # the sidecar without what names its own file
        return texts[name].replace(f"{name}.png", "NAME").replace(f'"{name}"', '"NAME"')

    for box_format in formats:
        assert documents[box_format]["annotations"] == documents["tlbr"]["annotations"]
        assert overlays(box_format) == overlays("tlbr"), box_format  # ints stay ints
    assert_valid()


# -- W&B boxes and masks round-trip --------------------------------------------------------

WANDB_BOXES = {
    "predictions": {
        "box_data": [
            {
                "position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6},
                "class_id": 1,
                "box_caption": "cat (0.91)",
                "scores": {"acc": 0.91, "loss": 0.12},
            },
            {
                "position": {"middle": [0.5, 0.25], "width": 0.25, "height": 0.5},
                "class_id": 2,
                "scores": {"acc": 0.5},
            },
            {"position": {"minX": 0, "maxX": 1, "minY": 0, "maxY": 1}, "class_id": 1},
        ],
        "class_labels": {1: "cat", 2: "dog"},
    },
    "ground_truth": {
        "box_data": [
            {
                "position": {"minX": 3, "maxX": 20, "minY": 4, "maxY": 10},
                "domain": "pixel",
                "class_id": 1,
                "box_caption": "a cat",
            },
            {
                "position": {"middle": [12.5, 8], "width": 6, "height": 4.5},
                "domain": "pixel",
                "class_id": 300,
                "box_caption": "big id",
            },
        ],
        "class_labels": {1: "cat", 300: "class 300"},
    },
}


def test_wandb_boxes_round_trip(repo: Path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
    with Live(save_dvc_exp=False) as live:
        live.log_image("boxes.png", rgb, boxes=WANDB_BOXES, caption="two groups")
        live.log_image("boxes_img.png", dvcstage.Image(rgb, boxes=WANDB_BOXES, caption="as Image"))

    for name, caption in (("boxes.png", "two groups"), ("boxes_img.png", "as Image")):
        record = read_image(IMAGES / name)
        assert np.array_equal(record.pixels, rgb)
        assert record.boxes == WANDB_BOXES
        assert record.caption == caption
        assert record.step == 0
        assert record.annotations is None
    assert_valid()


def test_masks_round_trip_8_and_16_bit_and_path(repo: Path) -> None:
    rng = np.random.default_rng(1)
    height, width = 20, 30
    small_ids = rng.integers(0, 6, size=(height, width))  # int64 in, 8-bit PNG out
    big_ids = rng.integers(0, 1200, size=(height, width)).astype(np.int32)
    big_ids[0, 0] = 65535
    from_file_8 = rng.integers(0, 200, size=(height, width), dtype=np.uint8)
    from_file_16 = rng.integers(0, 5000, size=(height, width)).astype(np.uint16)
    Path("masks_in").mkdir()
    PILImage.fromarray(from_file_8).save("masks_in/eight.png")
    PILImage.fromarray(from_file_16).save("masks_in/sixteen.png")
    masks = {
        "small": {"mask_data": small_ids, "class_labels": {i: f"c{i}" for i in range(6)}},
        "big": {"mask_data": big_ids, "class_labels": {65535: "void", 1: "one"}},
        "file8": {"path": "masks_in/eight.png", "class_labels": {0: "bg"}},
        "file16": {"path": Path("masks_in/sixteen.png"), "class_labels": {4999: "last"}},
    }
    img = rng.random((height, width))
    with Live(save_dvc_exp=False) as live:
        live.next_step()
        live.log_image("seg.png", img, masks=masks, caption="segmented")

    record = read_image(IMAGES / "seg.png")
    assert record.caption == "segmented"
    assert record.step == 1
    expected = {
        "small": (small_ids, np.uint8, masks["small"]["class_labels"]),
        "big": (big_ids, np.uint16, masks["big"]["class_labels"]),
        "file8": (from_file_8, np.uint8, {0: "bg"}),
        "file16": (from_file_16, np.uint16, {4999: "last"}),
    }
    assert set(record.masks) == set(expected)
    for name, (ids, dtype, labels) in expected.items():
        got = record.masks[name]
        assert got["mask_data"].dtype == dtype, name
        assert np.array_equal(got["mask_data"], ids), name
        assert got["class_labels"] == labels, name
        png = (IMAGES / "seg.masks" / f"{name}.png").read_bytes()
        assert png[12:16] == b"IHDR" and png[24] == (8 if dtype == np.uint8 else 16), name
        assert png[25] == 0, name  # grayscale: one channel of class ids
    document = sidecar("seg.json")
    assert document["masks"]["big"] == {
        "path": "seg.masks/big.png",
        "class_labels": {"1": "one", "65535": "void"},
        "bit_depth": 16,
    }
    assert document["masks"]["small"]["bit_depth"] == 8
    assert_valid()


def test_overwritten_image_with_changing_overlays_validates(repo: Path) -> None:
    """The spec's default pattern (one name, overwritten each step) with overlays that come
    and go: what is on disk is the last image, and ``dvcstage validate`` accepts the run."""
    img = np.zeros((10, 12), np.uint8)
    mask = np.ones((10, 12), np.uint8)
    with Live(save_dvc_exp=False) as live:
        live.log_metric("loss", 1.0)
        live.log_image("latest.png", img, caption="step 0", masks={"a": {"mask_data": mask}})
        live.next_step()
        live.log_image("latest.png", img + 1, masks={"b": {"mask_data": mask}})
        live.next_step()
        live.log_image("latest.png", img + 2)

    record = read_image(IMAGES / "latest.png")
    assert (record.pixels == 2).all()
    assert record.caption is None and record.masks == {}
    assert not (IMAGES / "latest.json").exists()
    assert not (IMAGES / "latest.masks").exists() or not any((IMAGES / "latest.masks").iterdir())
    assert_valid()


def test_names_differing_only_in_suffix_keep_their_own_overlays(repo: Path) -> None:
    """``a.png`` and ``a.jpg`` would share the sidecar ``a.json`` and the folder ``a.masks``:
    each must read back its own overlays, or the second name must be refused."""
    img = np.zeros((10, 12), np.uint8)
    with Live(save_dvc_exp=False) as live:
        live.log_metric("loss", 1.0)
        live.log_image("a.png", img, caption="png", annotations=SPEC_ANNOTATIONS_ARGUMENT)
        try:
            live.log_image("a.jpg", img, caption="jpg")
        except dvcstage.InvalidMediaNameError:
            refused = True
        else:
            refused = False
    png = read_image(IMAGES / "a.png")
    assert png.caption == "png"
    assert png.annotations == spec_annotations()
    if not refused:
        jpg = read_image(IMAGES / "a.jpg")
        assert jpg.caption == "jpg"
        assert jpg.annotations is None
    assert_valid()


# -- dvcstage.Image and live.log -----------------------------------------------------------


def test_log_images_lists_and_metrics(repo: Path) -> None:
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, size=(8, 10, 3), dtype=np.uint8) for _ in range(3)]
    with Live(save_dvc_exp=False) as live:
        for step in range(2):
            live.log(
                {
                    "key": dvcstage.Image(frames[step], caption=f"step {step}"),
                    "loss": 0.5 - step / 10,
                    "samples": [dvcstage.Image(f) for f in frames],
                    "nested": {"acc": 0.25 * step},
                }
            )
            live.next_step()

    for step in range(2):
        assert np.array_equal(pixels(IMAGES / f"key/{step}.png"), frames[step])
        assert read_image(IMAGES / f"key/{step}.png").caption == f"step {step}"
        for i, frame in enumerate(frames):
            assert np.array_equal(pixels(IMAGES / f"samples.items/{i}/{step}.png"), frame)
    assert not (IMAGES / "samples/0.png").exists()
    loss = Path("dvclive/plots/metrics/loss.tsv").read_text().splitlines()
    assert loss == ["step\tloss", "0\t0.5", "1\t0.4"]
    acc = Path("dvclive/plots/metrics/nested/acc.tsv").read_text().splitlines()
    assert acc == ["step\tacc", "0\t0.0", "1\t0.25"]
    summary = json.loads(Path("dvclive/metrics.json").read_text())
    assert summary["loss"] == 0.4 and summary["nested"] == {"acc": 0.25} and summary["step"] == 1
    dvcyaml = load_yaml(Path("dvc.yaml").read_text())
    # "key" has captions: DVC draws the previews, overlays burned in, for every image.
    assert dvcyaml["plots"] == [{"dvclive/plots/metrics": {"x": "step"}}, "dvclive/plots/previews"]
    previews = Path("dvclive/plots/previews")
    drawn = {p.relative_to(previews).as_posix() for p in previews.rglob("*") if p.is_file()}
    assert drawn == {f"key/{s}.jpg" for s in range(2)} | {  # drawn, with the caption
        f"samples.items/{i}/{s}.png"
        for i in range(3)
        for s in range(2)  # as they are
    }
    assert dvcyaml["metrics"] == ["dvclive/metrics.json"]
    assert_valid()


# -- sources: path without suffix, torch-like tensors ---------------------------------------


def test_path_source_name_without_suffix_inherits_it(repo: Path) -> None:
    jpeg_bytes = make_sample("inputs/photo.jpg", fmt="JPEG")
    png_bytes = make_sample("inputs/plain.png")
    gif_bytes = make_sample("inputs/anim.gif", fmt="GIF")
    with Live(save_dvc_exp=False) as live:
        live.log_image("photo", "inputs/photo.jpg")
        live.log_image("nested/plain", Path("inputs/plain.png"))
        live.log_image("anim", "inputs/anim.gif")
        live.log_image("converted.png", "inputs/photo.jpg")  # an explicit suffix wins

    assert (IMAGES / "photo.jpg").read_bytes() == jpeg_bytes
    assert (IMAGES / "nested/plain.png").read_bytes() == png_bytes
    assert (IMAGES / "anim.gif").read_bytes() == gif_bytes
    assert not (IMAGES / "photo").exists() and not (IMAGES / "nested/plain").exists()
    with PILImage.open(IMAGES / "converted.png") as converted:
        assert converted.format == "PNG"
    dvcyaml = load_yaml(Path("dvc.yaml").read_text())
    assert dvcyaml["plots"] == ["dvclive/plots/images"]
    assert_valid()


class FakeTensor:
    """A stand-in for a torch tensor (torch is not installed in the dev environment).

    It is not a NumPy array and has no ``__array__``: only torch's ``detach().cpu().numpy()``
    gets at its values, which is the path dvcstage takes for torch tensors.
    """

    def __init__(self, values: np.ndarray, calls: list[str] | None = None) -> None:
        self._values = values
        self.calls = calls if calls is not None else []
        self.shape = values.shape

    def detach(self) -> FakeTensor:
        self.calls.append("detach")
        return FakeTensor(self._values, self.calls)

    def cpu(self) -> FakeTensor:
        self.calls.append("cpu")
        return FakeTensor(self._values, self.calls)

    def numpy(self) -> np.ndarray:
        self.calls.append("numpy")
        return self._values.copy()


def test_torch_like_chw_tensors(repo: Path) -> None:
    rng = np.random.default_rng(3)
    chw = rng.random((3, 12, 16)).astype(np.float32)  # floats in [0, 1], channels first
    gray = rng.integers(0, 256, size=(1, 12, 16), dtype=np.uint8)
    rgba = rng.integers(0, 256, size=(4, 12, 16), dtype=np.uint8)
    tensor = FakeTensor(chw)
    with Live(save_dvc_exp=False) as live:
        live.log_image("chw.png", tensor)
        live.log_image("gray.png", FakeTensor(gray))
        live.log_image("rgba.png", FakeTensor(rgba))
        live.log({"logged": dvcstage.Image(FakeTensor(chw))})

    assert tensor.calls == ["detach", "cpu", "numpy"]
    expected_rgb = np.rint(np.moveaxis(chw, 0, -1) * 255).astype(np.uint8)
    assert np.array_equal(pixels(IMAGES / "chw.png"), expected_rgb)
    assert np.array_equal(pixels(IMAGES / "logged/0.png"), expected_rgb)
    assert np.array_equal(pixels(IMAGES / "gray.png"), gray[0])
    assert np.array_equal(pixels(IMAGES / "rgba.png"), np.moveaxis(rgba, 0, -1))
    assert_valid()


# -- everything at once --------------------------------------------------------------------


def test_validate_accepts_everything_together(repo: Path) -> None:
    """All the features in one run, then resumed: ``dvcstage validate .`` exits 0."""
    from matplotlib import pyplot as plt

    make_sample("run/batch_0_sample.png")
    rng = np.random.default_rng(4)
    with Live(save_dvc_exp=False, cache_images=True) as live:
        for _ in range(3):
            img = rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
            live.log_image(
                f"pred/{live.step}.png",
                img,
                annotations=SPEC_ANNOTATIONS_ARGUMENT,
                boxes=WANDB_BOXES,
                masks={"m": {"mask_data": rng.integers(0, 300, size=(20, 30))}},
                caption=f"step {live.step}",
            )
            live.log({"tensor": dvcstage.Image(FakeTensor(rng.random((3, 20, 30))))})
            live.log_metric("loss", float(rng.random()))
            live.next_step()
        fig, ax = plt.subplots()
        ax.plot([1, 2])
        live.log_image("figure.png", fig)
        live.log_image("sample", "run/batch_0_sample.png")
    with Live(save_dvc_exp=False, resume=True) as live:
        assert live.step == 3
        live.log_image(f"pred/{live.step}.png", np.zeros((20, 30), np.uint8))

    for step in range(3):
        record = read_image(IMAGES / f"pred/{step}.png")
        assert record.boxes == WANDB_BOXES
        assert record.annotations == spec_annotations()
        assert record.masks["m"]["class_labels"] == {}
    result = run("dvcstage", "validate", ".")
    assert "ok: 1 run(s)" in result.stderr
