"""Molecules: ``dvcstage.Molecule`` from structure files, SMILES strings or RDKit molecules.

Structure files (pdb, pqr, mmcif, mcif, cif, sdf, sd, gro, mol2, mmtf) are stored byte for
byte as ``media/molecule/<key>/<step>.<format>``, after a check that they look like their
format. SMILES strings and RDKit molecules need the optional RDKit
(``pip install 'dvcstage[molecules]'``); they are stored as an SDF file (a V2000/V3000 mol
block with 3D coordinates, which 3Dmol.js and every chemistry tool read) plus a 2-D
depiction ``<step>.png`` (role ``depiction``). 3D coordinates are embedded with a fixed
random seed, so logging the same molecule twice writes the same bytes (DVC deduplicates).
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from ..errors import (
    InvalidAnnotationError,
    InvalidMediaTypeError,
    InvalidMediaValueError,
    MissingOptionalDependencyError,
)
from .base import EncodedFile, EncodedItem, Media, MediaSlot
from .object3d import file_format, read_file_input

logger = logging.getLogger("dvcstage")

FORMATS = ("pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf")
MOLECULE_HELP = (
    "a path (str or pathlib.Path) or file object of a "
    + ", ".join(repr(f) for f in FORMATS)
    + " file; for SMILES use Molecule.from_smiles, for RDKit molecules Molecule.from_rdkit"
)
RDKIT_INPUT_HELP = "an rdkit.Chem.Mol or a path (str or pathlib.Path) to a .mol or .sdf file"
INSTALL_HINT = "pip install 'dvcstage[molecules]'"
EMBED_SEED = 0xD5C  # fixed: the same molecule gives the same coordinates, hence the same file


@dataclass(frozen=True)
class RDKit:
    """The RDKit modules used here (typed ``Any``: RDKit is optional and its stubs partial)."""

    Chem: Any
    AllChem: Any
    Draw: Any
    RDLogger: Any


def import_rdkit(feature: str) -> RDKit:
    """The RDKit modules, or a :class:`MissingOptionalDependencyError` with an install hint."""
    try:
        return RDKit(
            Chem=import_module("rdkit.Chem"),
            AllChem=import_module("rdkit.Chem.AllChem"),
            Draw=import_module("rdkit.Chem.Draw"),
            RDLogger=import_module("rdkit.RDLogger"),
        )
    except ImportError as exc:
        raise MissingOptionalDependencyError(
            f"{feature} needs RDKit, which is not installed; install it with: {INSTALL_HINT}"
        ) from exc


def _text(data: bytes) -> str | None:
    """The file as text, or ``None`` if it is binary."""
    if b"\x00" in data:
        return None
    return data.decode("utf-8", errors="replace")


def check_molecule_file(data: bytes, fmt: str, argument: str) -> None:
    """Refuse bytes that cannot be a ``fmt`` file (a cheap signature check, no parsing)."""
    accepted = f"a {fmt} file"
    if not data.strip():
        raise InvalidMediaValueError(argument, "the file is empty", accepted)
    if fmt == "mmtf":
        # MMTF is a MessagePack map: fixmap (0x80..0x8f), map16 (0xde) or map32 (0xdf).
        if not (0x80 <= data[0] <= 0x8F or data[0] in (0xDE, 0xDF)):
            raise InvalidMediaValueError(argument, "not MessagePack-encoded MMTF", accepted)
        return
    text = _text(data)
    if text is None:
        raise InvalidMediaValueError(argument, "binary data in a text format", accepted)
    lines = text.splitlines()
    if fmt in ("pdb", "pqr"):
        ok = any(line.startswith(("ATOM", "HETATM")) for line in lines)
        problem = "no ATOM or HETATM record"
    elif fmt in ("mmcif", "mcif", "cif"):
        ok = any(line.startswith("data_") for line in lines)
        problem = "no 'data_' block"
    elif fmt in ("sdf", "sd"):
        ok = any(line.startswith("M  END") for line in lines)
        problem = "no 'M  END' line (not a mol block)"
    elif fmt == "mol2":
        ok = "@<TRIPOS>ATOM" in text
        problem = "no '@<TRIPOS>ATOM' section"
    else:  # gro: title, atom count, one line per atom, box vectors
        count = lines[1].strip() if len(lines) > 1 else ""
        ok = count.isdigit() and len(lines) >= int(count) + 3
        problem = "no atom count on line 2, or fewer atom lines than it says"
    if not ok:
        raise InvalidMediaValueError(argument, problem, accepted)


def _check_iterations(value: Any) -> int:
    name = "mmff_optimize_molecule_max_iterations"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidMediaValueError(name, f"{value!r:.60} is not an int >= 0", "an int >= 0")
    return value


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidMediaTypeError(name, value, "True or False")
    return value


def _check_caption(caption: Any) -> str | None:
    if caption is not None and not isinstance(caption, str):
        raise InvalidAnnotationError("caption", f"{caption!r:.60} is not a str", "a str or None")
    return caption


class Molecule(Media):
    """A molecule (W&B's ``wandb.Molecule``): a structure file stored as is.

    >>> import dvcstage
    >>> protein = dvcstage.Molecule("6lu7.pdb", caption="main protease")  # doctest: +SKIP
    >>> aspirin = dvcstage.Molecule.from_smiles("CC(=O)Oc1ccccc1C(=O)O")  # needs RDKit
    >>> aspirin.format
    'sdf'

    Log it with ``live.log({"protein": protein})`` (written to
    ``media/molecule/protein/<step>.pdb`` and a sidecar ``<step>.json``).

    Args:
        data_or_path: a path or file object of a pdb, pqr, mmcif, mcif, cif, sdf, sd, gro,
            mol2 or mmtf file.
        caption: text shown with the molecule.
        file_type: the format of a file object without a name (``"pdb"``, ...).

    Raises:
        InvalidMediaTypeError, InvalidMediaValueError: bad input; nothing is written.
    """

    kind = "molecule"

    def __init__(
        self, data_or_path: Any, caption: str | None = None, *, file_type: str | None = None
    ) -> None:
        self.caption = _check_caption(caption)
        argument = "data_or_path"
        if not isinstance(data_or_path, (str, os.PathLike)) and not callable(
            getattr(data_or_path, "read", None)
        ):
            raise InvalidMediaTypeError(argument, data_or_path, MOLECULE_HELP)
        data, name = read_file_input(data_or_path, argument, MOLECULE_HELP)
        self.format = file_format(name, file_type, FORMATS, argument)
        check_molecule_file(data, self.format, argument)
        self.file_bytes: bytes | None = data
        self.source = "file"
        self._mol: Any = None  # an rdkit.Chem.Mol
        self._convert = False
        self._iterations = 0

    @classmethod
    def from_smiles(
        cls,
        data: str,
        caption: str | None = None,
        sanitize: bool = True,
        convert_to_3d_and_optimize: bool = True,
        mmff_optimize_molecule_max_iterations: int = 200,
    ) -> Molecule:
        """A molecule from a SMILES string (needs RDKit: ``pip install 'dvcstage[molecules]'``).

        >>> acetaminophen = Molecule.from_smiles("CC(=O)Nc1ccc(O)cc1")

        Args:
            data: the SMILES string.
            caption: text shown with the molecule.
            sanitize: let RDKit sanitize the molecule (valences, aromaticity) while parsing.
            convert_to_3d_and_optimize: add hydrogens, embed 3D coordinates and optimise them
                with the MMFF force field (when writing, on a background thread).
            mmff_optimize_molecule_max_iterations: MMFF iterations (0: embed only).
        """
        rdkit = import_rdkit("Molecule.from_smiles")
        if not isinstance(data, str):
            raise InvalidMediaTypeError("data", data, "a SMILES string")
        _check_flag(sanitize, "sanitize")
        rdkit.RDLogger.DisableLog("rdApp.*")  # the reason goes into our error instead
        try:
            mol = rdkit.Chem.MolFromSmiles(data, sanitize=sanitize) if data.strip() else None
        finally:
            rdkit.RDLogger.EnableLog("rdApp.*")
        if mol is None or mol.GetNumAtoms() == 0:
            raise InvalidMediaValueError(
                "data", f"{data!r:.80} is not a valid SMILES string", "a SMILES string RDKit parses"
            )
        return cls._from_mol(
            mol,
            caption,
            "smiles",
            convert_to_3d_and_optimize,
            mmff_optimize_molecule_max_iterations,
        )

    @classmethod
    def from_rdkit(
        cls,
        data_or_path: Any,
        caption: str | None = None,
        convert_to_3d_and_optimize: bool = True,
        mmff_optimize_molecule_max_iterations: int = 200,
    ) -> Molecule:
        """A molecule from an ``rdkit.Chem.Mol`` or a .mol/.sdf file (the first record).

        >>> from rdkit import Chem
        >>> resveratrol = Molecule.from_rdkit(Chem.MolFromSmiles("Oc1ccc(cc1)C=Cc1cc(O)cc(c1)O"))

        Arguments as :meth:`from_smiles`; with ``convert_to_3d_and_optimize=False`` the
        molecule's own coordinates are kept (2-D ones are computed if it has none).
        """
        rdkit = import_rdkit("Molecule.from_rdkit")
        argument = "data_or_path"
        if isinstance(data_or_path, rdkit.Chem.Mol):
            mol = rdkit.Chem.Mol(data_or_path)  # a copy: the caller may change theirs
        elif isinstance(data_or_path, (str, os.PathLike)) or callable(
            getattr(data_or_path, "read", None)
        ):
            data, name = read_file_input(data_or_path, argument, RDKIT_INPUT_HELP)
            file_format(name, None, ("mol", "sdf"), argument)
            mol = _mol_from_block(rdkit, data, argument)
        else:
            raise InvalidMediaTypeError(argument, data_or_path, RDKIT_INPUT_HELP)
        if mol.GetNumAtoms() == 0:
            raise InvalidMediaValueError(argument, "the molecule has no atoms", "a molecule")
        return cls._from_mol(
            mol, caption, "rdkit", convert_to_3d_and_optimize, mmff_optimize_molecule_max_iterations
        )

    @classmethod
    def _from_mol(
        cls, mol: Any, caption: Any, source: str, convert: Any, iterations: Any
    ) -> Molecule:
        molecule = cls.__new__(cls)
        molecule.caption = _check_caption(caption)
        molecule._convert = _check_flag(convert, "convert_to_3d_and_optimize")
        molecule._iterations = _check_iterations(iterations)
        molecule._mol = mol
        molecule.file_bytes = None
        molecule.format = "sdf"
        molecule.source = source
        return molecule

    @property
    def held_bytes(self) -> int:
        """Memory held until written: the file's bytes (a rough size for RDKit molecules)."""
        if self._mol is not None:
            return 200 * int(self._mol.GetNumAtoms())
        return len(self.file_bytes or b"")

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """The structure file, the depiction (RDKit inputs) and the sidecar ``<step>.json``."""
        payload = slot.file(f".{self.format}")
        files = []
        facts: dict[str, Any] = {"format": self.format, "source": self.source}
        if self._mol is not None:
            sdf, depiction, mol_facts = _encode_rdkit(self._mol, self._convert, self._iterations)
            facts.update(mol_facts)
            files.append(EncodedFile(payload, sdf, self.kind))
            files.append(EncodedFile(slot.file(".png"), depiction, "depiction"))
        else:
            assert self.file_bytes is not None
            files.append(EncodedFile(payload, self.file_bytes, self.kind))
        if self.caption is not None:
            facts["caption"] = self.caption
        return self.item_with_sidecar(
            slot,
            files,
            facts,
            owned=(*(slot.file(f".{fmt}") for fmt in FORMATS), slot.file(".png")),
        )

    def __repr__(self) -> str:
        return f"<dvcstage.Molecule {self.format} from {self.source} caption={self.caption!r}>"


def _mol_from_block(rdkit: RDKit, data: bytes, argument: str) -> Any:
    """The first molecule of a mol or SDF file's bytes."""
    accepted = "a .mol or .sdf file RDKit reads"
    rdkit.RDLogger.DisableLog("rdApp.*")
    try:
        supplier = rdkit.Chem.ForwardSDMolSupplier(io.BytesIO(data), removeHs=False)
        mol = next(iter(supplier), None)
    finally:
        rdkit.RDLogger.EnableLog("rdApp.*")
    if mol is None:
        raise InvalidMediaValueError(argument, "RDKit cannot read a molecule from it", accepted)
    return mol


def _encode_rdkit(
    original: Any, convert: bool, iterations: int
) -> tuple[bytes, bytes, dict[str, Any]]:
    """SDF bytes, depiction PNG bytes and facts of an RDKit molecule (pure; RDKit only)."""
    rdkit = import_rdkit("Molecule")
    chem, all_chem = rdkit.Chem, rdkit.AllChem

    facts: dict[str, Any] = {"smiles": chem.MolToSmiles(original)}
    mol = chem.Mol(original)
    if convert:
        mol = chem.AddHs(mol, addCoords=mol.GetNumConformers() > 0)
        if all_chem.EmbedMolecule(mol, randomSeed=EMBED_SEED) == 0:
            facts["coordinates"] = "3d"
            if iterations > 0:
                status = all_chem.MMFFOptimizeMolecule(mol, maxIters=iterations)
                facts["mmff"] = {0: "converged", 1: "not-converged"}.get(status, "unavailable")
        else:  # RDKit could not embed it (rare: strained or huge molecules)
            logger.warning(
                "dvcstage: RDKit could not embed %s in 3D; 2-D coordinates stored", facts["smiles"]
            )
            all_chem.Compute2DCoords(mol)
            facts["coordinates"] = "2d"
    elif mol.GetNumConformers() == 0:
        all_chem.Compute2DCoords(mol)
        facts["coordinates"] = "2d"
    else:
        facts["coordinates"] = "3d" if mol.GetConformer().Is3D() else "2d"
    facts["atoms"] = mol.GetNumAtoms()
    facts["bonds"] = mol.GetNumBonds()
    sdf = (chem.MolToMolBlock(mol) + "$$$$\n").encode("utf-8")

    flat = chem.Mol(original)
    flat.RemoveAllConformers()  # depict from a clean 2-D layout, not a projected 3D one
    buffer = io.BytesIO()
    rdkit.Draw.MolToImage(flat, size=(300, 300)).save(buffer, format="PNG")
    return sdf, buffer.getvalue(), facts


__all__ = ["FORMATS", "MissingOptionalDependencyError", "Molecule", "import_rdkit"]
