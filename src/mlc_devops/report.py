"""The build report's schema: one dataclass that ``build`` writes and the supply chain's reader reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlc_devops import __version__
from mlc_devops.errors import UsageError

SCHEMA = "mlc-devops/build-report/v1"
SUFFIX = ".build.json"  # beside the wheel: <wheel filename>.build.json


def report_path_for(artifact: Path) -> Path:
    """Where the report of ``artifact`` lies: ``<artifact>.build.json`` beside it."""
    return artifact.with_name(artifact.name + SUFFIX)


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one: for reading optional nested fields."""
    return value if isinstance(value, Mapping) else {}


def _tool() -> dict[str, Any]:
    return {"name": "mlc-devops", "version": __version__}


@dataclass
class BuildReport:
    """One wheel's build report, schema :data:`SCHEMA` (``tests/schemas/build-report.v1.json``), as JSON sections.

    ``build`` writes one for the mlc_llm wheel and, with ``--tvm source``, one for the
    TVM wheel; the mlc_llm wheel's has ``retag`` (null when the wheel kept its tags), the
    TVM wheel's has ``tvm`` instead (its retag is in it): which one, by whether ``tvm`` is
    set. ``pair`` names the other wheel of the pair; None when built alone.
    ``base_image`` and ``invocation_id`` are never written by ``build``, but read when
    a report carries them. Shapes: ``source`` ``{"path", "uri", "commit",
    "commit_time"}``; ``submodules`` ``[{"path", "url", "commit"}]``; ``tree``
    ``{"state", "repositories"}``; ``cargo`` ``{"locks", "missing"}``; ``wheel``
    ``{"filename", "sha256", "size", "libraries", "tags"}``; ``cmake_floor`` ``{"version",
    "file"}``; ``validation`` and ``compiler_cache`` as validation and the cache report them;
    ``build_environment`` where ``pip wheel`` ran: ``{"kind": "current", "path"}`` (this interpreter, no
    isolation), ``{"kind": "temporary"}`` (pip's isolation), or the kept one's
    (:meth:`mlc_devops.buildenv.Kept.report`; ``build_isolation`` is true with it: isolated from the tool's
    environment, pip itself run there with ``--no-build-isolation``); None in reports written before it
    existed and in the TVM wheel's.
    """

    layout: str | None
    backends: Sequence[str] | str | None  # build writes a list; a report written by hand may hold "cpu,cuda"
    cuda_architectures: Sequence[str] | str | None
    build_type: str | None
    jobs: int | None
    build_isolation: bool | None
    source: Mapping[str, Any]
    submodules: list[Any]
    tree: Mapping[str, Any]
    cargo: Mapping[str, Any]
    tool_versions: Mapping[str, Any]
    phases: Mapping[str, Any]
    started: str | None
    finished: str | None
    wheel: Mapping[str, Any]
    cmake_floor: Mapping[str, Any]
    validation: Mapping[str, Any]
    compiler_cache: Mapping[str, Any]
    retag: Mapping[str, Any] | None = None
    tvm: Mapping[str, Any] | None = None
    pair: Mapping[str, Any] | None = None
    tool: Mapping[str, Any] = field(default_factory=_tool)
    base_image: Any = None
    invocation_id: Any = None
    build_environment: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The report as ``build`` writes it: its keys in the order they have always had (``build --json`` prints
        them in that order; the file beside the wheel sorts them)."""
        out: dict[str, Any] = {
            "schema": SCHEMA,
            "tool": self.tool,
            "layout": self.layout,
            "backends": self.backends,
            "cuda_architectures": self.cuda_architectures,
            "build_type": self.build_type,
            "jobs": self.jobs,
            "build_isolation": self.build_isolation,
        }
        if self.build_environment is not None:
            out["build_environment"] = self.build_environment
        if self.tvm is None:
            out["retag"] = self.retag
        out.update(
            {
                "source": self.source,
                "submodules": self.submodules,
                "tree": self.tree,
                "cargo": self.cargo,
                "tool_versions": self.tool_versions,
                "phases": self.phases,
                "started": self.started,
                "finished": self.finished,
                "wheel": self.wheel,
                "cmake_floor": self.cmake_floor,
                "validation": self.validation,
                "compiler_cache": self.compiler_cache,
            }
        )
        if self.tvm is not None:
            out["tvm"] = self.tvm
        if self.pair is not None:
            out["pair"] = self.pair
        if self.base_image is not None:
            out["base_image"] = self.base_image
        if self.invocation_id is not None:
            out["invocation_id"] = self.invocation_id
        return out

    @classmethod
    def from_json(cls, data: Any, *, where: str = "build report") -> BuildReport:
        """The report in ``data`` (parsed JSON), read tolerantly: a section that is absent or not of its kind
        comes out empty or None. UsageError when ``data`` is not a JSON object or not of schema :data:`SCHEMA`."""
        if not isinstance(data, Mapping):
            raise UsageError(f"{where} is not a JSON object")
        schema = data.get("schema")
        if schema != SCHEMA:
            raise UsageError(f"{where} has schema {schema!r}, expected {SCHEMA!r}")
        return cls(
            tool=mapping(data.get("tool")),
            layout=data.get("layout"),
            backends=data.get("backends"),
            cuda_architectures=data.get("cuda_architectures"),
            build_type=data.get("build_type"),
            jobs=data.get("jobs"),
            build_isolation=data.get("build_isolation"),
            build_environment=mapping(data.get("build_environment")) or None,
            retag=data.get("retag"),
            source=mapping(data.get("source")),
            submodules=data.get("submodules") or [],
            tree=mapping(data.get("tree")),
            cargo=mapping(data.get("cargo")),
            tool_versions=mapping(data.get("tool_versions")),
            phases=mapping(data.get("phases")),
            started=data.get("started"),
            finished=data.get("finished"),
            wheel=mapping(data.get("wheel")),
            cmake_floor=mapping(data.get("cmake_floor")),
            validation=mapping(data.get("validation")),
            compiler_cache=mapping(data.get("compiler_cache")),
            tvm=data.get("tvm"),
            pair=data.get("pair"),
            base_image=data.get("base_image"),
            invocation_id=data.get("invocation_id"),
        )
