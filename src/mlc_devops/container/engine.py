"""A private dockerd for machines without a service manager: its paths, start, stop and whether it answers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from mlc_devops import options
from mlc_devops import run as run_mod
from mlc_devops.errors import MlcDevopsError, PrerequisiteMissing

DEFAULT_ENGINE_ROOT = Path("/var/lib/mlc-devops/engine")
DEFAULT_ENGINE_RUN = Path("/run/mlc-devops/engine")


@dataclass(frozen=True)
class Engine:
    """Paths of a dockerd that does not clash with a system one."""

    data_root: Path = DEFAULT_ENGINE_ROOT
    run_dir: Path = DEFAULT_ENGINE_RUN

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "dockerd.pid"

    @property
    def daemon_pidfile(self) -> Path:
        return self.run_dir / "dockerd-self.pid"

    @property
    def log(self) -> Path:
        return self.data_root.parent / "dockerd.log"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Engine:
        data = options.resolve_one("docker_data_root", env).value or str(DEFAULT_ENGINE_ROOT)
        rundir = options.resolve_one("docker_run_dir", env).value or str(DEFAULT_ENGINE_RUN)
        return cls(Path(data), Path(rundir))


def dockerd_command(engine: Engine, dockerd: str = "dockerd") -> list[str]:
    """dockerd with its own data root, exec root, socket and pid file, and no bridge.

    No bridge and no iptables: containers use ``--network host``, which is all a
    build machine without a service manager (or inside another container) allows.
    """
    return [
        dockerd,
        "--data-root", str(engine.data_root),
        "--exec-root", str(engine.exec_root),
        "--host", engine.host,
        "--pidfile", str(engine.daemon_pidfile),
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
    ]  # fmt: skip


def start_daemon_command(engine: Engine, dockerd_path: str) -> list[str]:
    """start-stop-daemon puts dockerd in the background, with its output in a log file."""
    return [
        "start-stop-daemon", "--start", "--background", "--oknodo",
        "--make-pidfile", "--pidfile", str(engine.pidfile),
        "--output", str(engine.log),
        "--exec", dockerd_path, "--",
        *dockerd_command(engine)[1:],
    ]  # fmt: skip


def stop_daemon_command(engine: Engine) -> list[str]:
    return [
        "start-stop-daemon", "--stop", "--pidfile", str(engine.pidfile),
        "--remove-pidfile", "--retry", "TERM/20/KILL/5", "--oknodo",
    ]  # fmt: skip


def engine_env(engine: Engine, env: Mapping[str, str]) -> dict[str, str]:
    out = dict(env)
    out["DOCKER_HOST"] = engine.host
    return out


def engine_answers(env: Mapping[str, str], docker: str = "docker") -> str | None:
    """The server version when the engine at env's DOCKER_HOST answers, else None."""
    if run_mod.which(docker, env) is None:
        return None
    try:
        result = run_mod.run([docker, "version", "--format", "{{.Server.Version}}"], env=env, check=False)
    except MlcDevopsError:
        return None
    text = result.output.strip().splitlines()
    return text[-1].strip() if result.returncode == 0 and text else None


def pid_alive(pidfile: Path, name: str = "dockerd", proc: Path = Path("/proc")) -> bool:
    """Whether ``pidfile`` names a running process called ``name`` (a zombie is not running)."""
    try:
        pid = int(pidfile.read_text().strip())
        comm = (proc / str(pid) / "comm").read_text().strip()
        stat = (proc / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return False
    state = stat.rpartition(")")[2].split()[:1]
    return comm == name and state not in (["Z"], ["X"])


def clear_stale(engine: Engine, env: Mapping[str, str]) -> None:
    """Remove what a killed dockerd leaves: pid files of dead processes, its network namespace mount.

    dockerd refuses to start over a pid file whose process exists, and waits in
    vain for a containerd whose pid file names one -- a zombie counts, where
    nothing reaps the killed daemons. A session that is killed cannot stop its
    engine, so the next start cleans up.
    """
    owned = (
        (engine.pidfile, "dockerd"),
        (engine.daemon_pidfile, "dockerd"),
        (engine.exec_root / "containerd" / "containerd.pid", "containerd"),
    )
    for pidfile, name in owned:
        if pidfile.exists() and not pid_alive(pidfile, name):
            with contextlib.suppress(OSError):
                pidfile.unlink()
    netns = engine.exec_root / "netns" / "default"
    if not pid_alive(engine.pidfile) and netns.exists() and run_mod.which("umount", env) is not None:
        run_mod.run(["umount", str(netns)], env=env, check=False)


def start_engine(
    engine: Engine,
    env: Mapping[str, str],
    *,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Start dockerd for ``engine`` unless it answers already; return its version."""
    client_env = engine_env(engine, env)
    version = engine_answers(client_env)
    if version is not None:
        return version
    dockerd = run_mod.which("dockerd", env)
    if dockerd is None:
        raise PrerequisiteMissing("'dockerd' was not found on PATH", hint="apt-get install docker.io")
    run_mod.require("start-stop-daemon", env, hint="apt-get install dpkg (Debian) or start dockerd yourself")
    for folder in (engine.data_root, engine.exec_root, engine.run_dir):
        folder.mkdir(parents=True, exist_ok=True)
    clear_stale(engine, env)
    run_mod.run(start_daemon_command(engine, dockerd), env=env, what="start dockerd")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = engine_answers(client_env)
        if version is not None:
            return version
        sleep(0.5)
    tail = ""
    with contextlib.suppress(OSError):
        tail = "\n".join(engine.log.read_text(errors="replace").splitlines()[-20:])
    raise PrerequisiteMissing(
        f"dockerd did not answer on {engine.socket} within {timeout:.0f}s",
        hint=f"see {engine.log}",
        detail=tail,
    )


def stop_engine(engine: Engine, env: Mapping[str, str]) -> None:
    if engine.pidfile.exists():
        run_mod.run(stop_daemon_command(engine), env=env, what="stop dockerd")
    netns = engine.exec_root / "netns" / "default"
    if netns.exists() and run_mod.which("umount", env) is not None:
        # dockerd leaves its network namespace mounted.
        run_mod.run(["umount", str(netns)], env=env, check=False)
