"""Molecule: structure files stored byte for byte; SMILES and RDKit molecules as SDF + PNG.

RDKit is an optional extra; the RDKit tests run when it is installed (it is in the dev
extra), and the no-RDKit error is checked in a subprocess that hides it.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

import dvcstage
from dvcstage import Live, schemas
from dvcstage.errors import InvalidAnnotationError, InvalidMediaTypeError, InvalidMediaValueError
from dvcstage.media.molecule import FORMATS, MissingOptionalDependencyError, Molecule
from dvcstage.validate import validate_tree

PDB = (
    b"HEADER    TINY 6LU7-LIKE PROTEIN\n"
    b"ATOM      1  N   SER A   1      -2.365   4.583 -19.617  1.00 30.42           N\n"
    b"ATOM      2  CA  SER A   1      -1.873   5.967 -19.634  1.00 30.05           C\n"
    b"END\n"
)
MOL_BLOCK = (
    b"methane\n     handmade      3D\n\n"
    b"  1  0  0  0  0  0  0  0  0  0999 V2000\n"
    b"    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n"
    b"M  END\n"
)
SAMPLES = {
    "pdb": PDB,
    "pqr": b"ATOM      1  N   ALA     1      11.104   6.134  -6.504 -0.3000 1.8240\nEND\n",
    "mmcif": b"data_tiny\n_atom_site.id 1\n",
    "mcif": b"data_tiny\n_atom_site.id 1\n",
    "cif": b"data_tiny\n_atom_site.id 1\n",
    "sdf": MOL_BLOCK + b"$$$$\n",
    "sd": MOL_BLOCK + b"$$$$\n",
    "gro": b"water\n    1\n    1SOL     OW    1   0.126   1.624   1.679\n   1.86   1.86   1.86\n",
    "mol2": b"@<TRIPOS>MOLECULE\nm\n 1 0 0 0 0\nSMALL\nNO_CHARGES\n\n@<TRIPOS>ATOM\n"
    b"      1 C   0.0000  0.0000  0.0000 C.3  1 UNL1  0.0000\n",
    "mmtf": b"\x81\xa5title\xa4tiny",  # a MessagePack map {"title": "tiny"}
}


@pytest.fixture
def live(plain_dir: Path) -> Iterator[Live]:
    with Live(save_dvc_exp=False) as run:
        yield run


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def sidecar(run: Path, key: str, step: int = 0) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((run / f"media/molecule/{key}/{step}.json").read_text())
    schemas.check_document("molecule", document, key)
    return document


# -- files ------------------------------------------------------------------------------------


def test_spec_protein_sample(live: Live, plain_dir: Path) -> None:
    (plain_dir / "6lu7.pdb").write_bytes(PDB)

    live.log({"protein": dvcstage.Molecule("6lu7.pdb")})
    live.flush()
    run = Path(live.dir)
    assert (run / "media/molecule/protein/0.pdb").read_bytes() == PDB
    document = sidecar(run, "protein")
    assert (document["format"], document["source"]) == ("pdb", "file")
    assert document["files"] == [{"path": "0.pdb", "role": "molecule"}]
    assert validate_tree(run) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_by_path_and_file_object(live: Live, plain_dir: Path, fmt: str) -> None:
    (plain_dir / f"sample.{fmt}").write_bytes(SAMPLES[fmt])
    text_mode = fmt != "mmtf"
    handle: Any = io.StringIO(SAMPLES[fmt].decode()) if text_mode else io.BytesIO(SAMPLES[fmt])
    live.log(
        {
            "by_path": Molecule(f"sample.{fmt}", caption=fmt),
            "by_object": Molecule(handle, file_type=fmt),
        }
    )
    live.flush()
    run = Path(live.dir)
    for key in ("by_path", "by_object"):
        assert (run / f"media/molecule/{key}/0.{fmt}").read_bytes() == SAMPLES[fmt]
        assert sidecar(run, key)["format"] == fmt
    assert sidecar(run, "by_path")["caption"] == fmt


# -- RDKit ------------------------------------------------------------------------------------


def test_spec_rdkit_sample(live: Live, plain_dir: Path) -> None:
    rdkit = pytest.importorskip("rdkit")
    from rdkit import Chem

    # A small stand-in for the page's 2b3p.mol (green fluorescent protein).
    chromophore = Chem.AddHs(Chem.MolFromSmiles("CC1=NC(=Cc2ccc(O)cc2)C(=O)N1C"))
    (plain_dir / "2b3p.mol").write_text(Chem.MolToMolBlock(chromophore))
    assert rdkit is not None

    resveratrol = rdkit.Chem.MolFromSmiles("Oc1ccc(cc1)C=Cc1cc(O)cc(c1)O")

    live.log(
        {
            "resveratrol": dvcstage.Molecule.from_rdkit(resveratrol),
            "green fluorescent protein": dvcstage.Molecule.from_rdkit("2b3p.mol"),
            "acetaminophen": dvcstage.Molecule.from_smiles("CC(=O)Nc1ccc(O)cc1"),
        }
    )
    live.flush()
    run = Path(live.dir)
    heavy_atoms = {"resveratrol": 17, "green fluorescent protein": 16, "acetaminophen": 11}
    for key, heavy in heavy_atoms.items():
        folder = run / "media/molecule" / key
        mol = Chem.MolFromMolFile(str(folder / "0.sdf"), removeHs=False)
        assert mol is not None
        assert mol.GetNumHeavyAtoms() == heavy
        assert mol.GetConformer().Is3D()
        with PILImage.open(folder / "0.png") as depiction:
            depiction.load()
            assert depiction.size == (300, 300)
        document = sidecar(run, key)
        assert document["files"] == [
            {"path": "0.sdf", "role": "molecule"},
            {"path": "0.png", "role": "depiction"},
        ]
        assert document["atoms"] == mol.GetNumAtoms()
        assert document["coordinates"] == "3d"
        assert document["mmff"] == "converged"
    assert sidecar(run, "acetaminophen")["smiles"] == "CC(=O)Nc1ccc(O)cc1"
    assert sidecar(run, "resveratrol")["source"] == "rdkit"
    assert validate_tree(run) == []


def test_rdkit_output_is_deterministic_and_the_input_is_copied(live: Live) -> None:
    pytest.importorskip("rdkit")
    from rdkit import Chem

    mol = Chem.MolFromSmiles("Oc1ccccc1")
    first = Molecule.from_rdkit(mol, caption="phenol")
    mol.GetAtomWithIdx(0).SetAtomicNum(7)  # changing the caller's molecule afterwards
    live.log({"a": first, "b": Molecule.from_smiles("Oc1ccccc1")})
    live.flush()
    folder = Path(live.dir) / "media/molecule"
    for suffix in (".sdf", ".png"):
        assert (folder / f"a/0{suffix}").read_bytes() == (folder / f"b/0{suffix}").read_bytes()


def test_without_3d_conversion_keeps_or_lays_out_coordinates(live: Live) -> None:
    pytest.importorskip("rdkit")
    live.log({"flat": Molecule.from_smiles("CCO", convert_to_3d_and_optimize=False)})
    live.flush()
    document = sidecar(Path(live.dir), "flat")
    assert (document["coordinates"], document["atoms"]) == ("2d", 3)
    assert "mmff" not in document


def test_invalid_smiles_is_a_typed_error(live: Live) -> None:
    pytest.importorskip("rdkit")
    for smiles in ("C1CC(", "not a molecule", ""):
        with pytest.raises(InvalidMediaValueError, match=r"^data: .* is not a valid SMILES"):
            Molecule.from_smiles(smiles)


def test_without_rdkit_the_error_names_the_extra() -> None:
    # One virtualenv cannot both have and lack RDKit, so a child interpreter hides it:
    # a None entry in sys.modules makes every "import rdkit..." raise ImportError.
    script = """
import sys
sys.modules["rdkit"] = None
from dvcstage.media.molecule import Molecule, MissingOptionalDependencyError
for call in (lambda: Molecule.from_smiles("CCO"), lambda: Molecule.from_rdkit("x.mol")):
    try:
        call()
    except ImportError as exc:
        assert isinstance(exc, MissingOptionalDependencyError), type(exc)
        print(exc)
    else:
        raise SystemExit("no error")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Molecule.from_smiles needs RDKit")
    assert lines[1].startswith("Molecule.from_rdkit needs RDKit")
    assert all("pip install 'dvcstage[molecules]'" in line for line in lines)
    assert issubclass(MissingOptionalDependencyError, ImportError)


# -- bad input --------------------------------------------------------------------------------


def _rdkit_cases() -> list[tuple[str, Callable[[], Any], type[Exception], str]]:
    return [
        ("smiles int", lambda: Molecule.from_smiles(5), InvalidMediaTypeError, "data"),  # type: ignore[arg-type]
        ("smiles bad", lambda: Molecule.from_smiles("C(("), InvalidMediaValueError, "data"),
        (
            "sanitize",
            lambda: Molecule.from_smiles("C", sanitize="yes"),  # type: ignore[arg-type]
            InvalidMediaTypeError,
            "sanitize",
        ),
        (
            "convert",
            lambda: Molecule.from_smiles("C", convert_to_3d_and_optimize=1),  # type: ignore[arg-type]
            InvalidMediaTypeError,
            "convert_to_3d_and_optimize",
        ),
        (
            "iterations",
            lambda: Molecule.from_smiles("C", mmff_optimize_molecule_max_iterations=-1),
            InvalidMediaValueError,
            "mmff_optimize_molecule_max_iterations",
        ),
        (
            "smiles caption",
            lambda: Molecule.from_smiles("C", caption=1),  # type: ignore[arg-type]
            InvalidAnnotationError,
            "caption",
        ),
        ("rdkit int", lambda: Molecule.from_rdkit(3), InvalidMediaTypeError, "data_or_path"),
        (
            "rdkit pdb",
            lambda: Molecule.from_rdkit("sample.pdb"),
            InvalidMediaValueError,
            "data_or_path",
        ),
        (
            "rdkit garbage",
            lambda: Molecule.from_rdkit("bad.mol"),
            InvalidMediaValueError,
            "data_or_path",
        ),
        (
            "rdkit missing",
            lambda: Molecule.from_rdkit("missing.mol"),
            InvalidMediaValueError,
            "data_or_path",
        ),
    ]


BAD: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("int", lambda: Molecule(3), InvalidMediaTypeError, "data_or_path"),
    ("missing", lambda: Molecule("missing.pdb"), InvalidMediaValueError, "data_or_path"),
    ("suffix", lambda: Molecule("sample.xyz"), InvalidMediaValueError, "data_or_path"),
    (
        "no file_type",
        lambda: Molecule(io.StringIO(PDB.decode())),
        InvalidMediaValueError,
        "file_type",
    ),
    (
        "bad file_type",
        lambda: Molecule(io.StringIO(PDB.decode()), file_type="xyz"),
        InvalidMediaValueError,
        "file_type",
    ),
    (
        "contradicting",
        lambda: Molecule("sample.pdb", file_type="sdf"),
        InvalidMediaValueError,
        "file_type",
    ),
    (
        "empty",
        lambda: Molecule(io.BytesIO(b""), file_type="pdb"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "pdb without atoms",
        lambda: Molecule(io.StringIO("HEADER x\n"), file_type="pdb"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "sdf without M END",
        lambda: Molecule(io.StringIO(PDB.decode()), file_type="sdf"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "cif without data_",
        lambda: Molecule(io.StringIO("loop_\n"), file_type="cif"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "mol2 without atoms",
        lambda: Molecule(io.StringIO("@<TRIPOS>MOLECULE\n"), file_type="mol2"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "gro count",
        lambda: Molecule(io.StringIO("t\n 5\n a\n"), file_type="gro"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "mmtf text",
        lambda: Molecule(io.BytesIO(b"ATOM"), file_type="mmtf"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    (
        "binary pdb",
        lambda: Molecule(io.BytesIO(b"ATOM\x00\x01"), file_type="pdb"),
        InvalidMediaValueError,
        "data_or_path",
    ),
    ("caption", lambda: Molecule("sample.pdb", caption=["x"]), InvalidAnnotationError, "caption"),  # type: ignore[arg-type]
]


def _all_bad() -> list[tuple[str, Callable[[], Any], type[Exception], str]]:
    try:
        import rdkit  # noqa: F401
    except ImportError:
        return BAD
    return BAD + _rdkit_cases()


@pytest.mark.parametrize(
    ("make", "error", "argument"), [c[1:] for c in _all_bad()], ids=[c[0] for c in _all_bad()]
)
def test_bad_input_is_a_typed_error_and_writes_nothing(
    live: Live,
    plain_dir: Path,
    make: Callable[[], Any],
    error: type[Exception],
    argument: str,
) -> None:
    (plain_dir / "sample.pdb").write_bytes(PDB)
    (plain_dir / "bad.mol").write_text("not a mol file\n")
    live.log({"ok": Molecule("sample.pdb")})
    live.flush()
    before = snapshot(plain_dir)
    with pytest.raises(error) as caught:
        live.log({"bad": make()})
    assert str(caught.value).startswith(f"{argument}:"), str(caught.value)
    assert "accepted:" in str(caught.value)
    live.flush()
    assert snapshot(plain_dir) == before


@settings(max_examples=40, deadline=None)
@given(
    fmt=st.sampled_from([f for f in FORMATS if f != "mmtf"]),
    lines=st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-", max_size=30)),
)
def test_property_text_without_the_format_signature_is_refused(fmt: str, lines: list[str]) -> None:
    # Upper-case letters and digits only: no "data_", "@<TRIPOS>ATOM" or "M  END" can occur.
    text = "\n".join(line for line in lines if not line.startswith(("ATOM", "HETATM")))
    if fmt == "gro":
        text = "title\nnot a count\n" + text
    with pytest.raises(InvalidMediaValueError, match=r"^data_or_path: "):
        Molecule(io.StringIO(text), file_type=fmt)
