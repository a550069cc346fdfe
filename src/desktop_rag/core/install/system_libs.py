"""Does this Linux desktop have the system libraries Qt's window plugins need?

PySide6 carries Qt but not the X11/xcb libraries its `xcb` platform plugin links to. On a
Debian machine without libxcb-cursor0, libxcb-icccm4 or libxcb-keysyms1, Qt aborts with only
"no Qt platform plugin could be initialized". This module finds the missing libraries with
`ldd` before Qt starts and names the command that installs them on this distribution. The
same table gives the `.deb` its Depends (`python -m desktop_rag.core.install.system_libs
--deb-depends`), so the package and the check cannot drift apart.

    python -m desktop_rag.core.install.system_libs     # exit 1 and the install command if any is missing
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from desktop_rag.core.paths import qt_plugins_dir

FAMILIES = ("debian", "fedora", "arch", "suse")
_INSTALL = {
    "debian": "sudo apt install",
    "fedora": "sudo dnf install",
    "arch": "sudo pacman -S --needed",
    "suse": "sudo zypper install",
}


@dataclass(frozen=True)
class SystemLibrary:
    """One shared library and the package that provides it on each distribution family."""

    soname: str
    debian: str
    fedora: str
    arch: str
    suse: str

    def package(self, family: str) -> str:
        return str(getattr(self, family))


# What Qt's xcb and wayland platform plugins (and the Qt libraries they load) need from the
# system beyond glibc, read with `objdump -p` from PySide6 6.11's libqxcb.so, libqwayland.so and
# the Qt libraries they link (tests/core/install/test_system_libs.py checks the table still covers them).
_TABLE = """
# soname                 debian               fedora               arch                 suse
libxcb-cursor.so.0       libxcb-cursor0       xcb-util-cursor      xcb-util-cursor      libxcb-cursor0
libxcb-icccm.so.4        libxcb-icccm4        xcb-util-wm          xcb-util-wm          libxcb-icccm4
libxcb-keysyms.so.1      libxcb-keysyms1      xcb-util-keysyms     xcb-util-keysyms     libxcb-keysyms1
libxcb-image.so.0        libxcb-image0        xcb-util-image       xcb-util-image       libxcb-image0
libxcb-render-util.so.0  libxcb-render-util0  xcb-util-renderutil  xcb-util-renderutil  libxcb-render-util0
libxcb-util.so.1         libxcb-util1         xcb-util             xcb-util             libxcb-util1
libxcb-randr.so.0        libxcb-randr0        libxcb               libxcb               libxcb-randr0
libxcb-render.so.0       libxcb-render0       libxcb               libxcb               libxcb-render0
libxcb-shape.so.0        libxcb-shape0        libxcb               libxcb               libxcb-shape0
libxcb-shm.so.0          libxcb-shm0          libxcb               libxcb               libxcb-shm0
libxcb-sync.so.1         libxcb-sync1         libxcb               libxcb               libxcb-sync1
libxcb-xfixes.so.0       libxcb-xfixes0       libxcb               libxcb               libxcb-xfixes0
libxcb-xkb.so.1          libxcb-xkb1          libxcb               libxcb               libxcb-xkb1
libxcb.so.1              libxcb1              libxcb               libxcb               libxcb1
libX11-xcb.so.1          libx11-xcb1          libX11-xcb           libx11               libX11-xcb1
libX11.so.6              libx11-6             libX11               libx11               libX11-6
libxkbcommon.so.0        libxkbcommon0        libxkbcommon         libxkbcommon         libxkbcommon0
libxkbcommon-x11.so.0    libxkbcommon-x11-0   libxkbcommon-x11     libxkbcommon-x11     libxkbcommon-x11-0
libfontconfig.so.1       libfontconfig1       fontconfig           fontconfig           libfontconfig1
libfreetype.so.6         libfreetype6         freetype             freetype2            libfreetype6
libEGL.so.1              libegl1              libglvnd-egl         libglvnd             libEGL1
libGL.so.1               libgl1               libglvnd-glx         libglvnd             libGL1
libdbus-1.so.3           libdbus-1-3          dbus-libs            dbus                 libdbus-1-3
libglib-2.0.so.0         libglib2.0-0         glib2                glib2                libglib-2_0-0
libgthread-2.0.so.0      libglib2.0-0         glib2                glib2                libgthread-2_0-0
libz.so.1                zlib1g               zlib                 zlib                 libz1
libzstd.so.1             libzstd1             libzstd              zstd                 libzstd1
libstdc++.so.6           libstdc++6           libstdc++            gcc-libs             libstdc++6
libgcc_s.so.1            libgcc-s1            libgcc               gcc-libs             libgcc_s1
libwayland-client.so.0   libwayland-client0   libwayland-client    wayland              libwayland-client0
libwayland-cursor.so.0   libwayland-cursor0   libwayland-cursor    wayland              libwayland-cursor0
libwayland-egl.so.1      libwayland-egl1      libwayland-egl       wayland              libwayland-egl1
"""
QT_DISPLAY_LIBRARIES: tuple[SystemLibrary, ...] = tuple(
    SystemLibrary(*line.split())
    for line in _TABLE.splitlines()
    if line.strip() and not line.startswith("#")
)
BY_SONAME = {lib.soname: lib for lib in QT_DISPLAY_LIBRARIES}
# Platform plugins that draw without a display server: nothing to check.
_HEADLESS = {"offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"}


@dataclass(frozen=True)
class MissingLibraries:
    """The libraries a platform plugin needs and cannot find, and how to install them."""

    plugin: str
    sonames: tuple[str, ...]
    family: str | None

    def packages(self) -> list[str]:
        if self.family is None:
            return []
        names = [BY_SONAME[s].package(self.family) for s in self.sonames if s in BY_SONAME]
        return list(dict.fromkeys(names))

    def install_command(self) -> str | None:
        packages = self.packages()
        if self.family is None or not packages:
            return None
        return f"{_INSTALL[self.family]} {' '.join(packages)}"

    def message(self, *, at_setup: bool = False) -> str:
        lines = [
            f"Desktop RAG cannot open its window: Qt's {self.plugin} display plugin needs "
            f"system libraries this computer does not have: {', '.join(self.sonames)}.",
        ]
        command = self.install_command()
        debian = list(dict.fromkeys(BY_SONAME[s].debian for s in self.sonames if s in BY_SONAME))
        if command:
            lines.append(f"Install them with:\n    {command}")
        elif debian:
            lines.append(
                "Install them with your distribution's package manager (on Debian and Ubuntu: "
                f"sudo apt install {' '.join(debian)})."
            )
        unknown = [s for s in self.sonames if s not in BY_SONAME]
        if unknown:
            lines.append(
                f"Find the package that provides {', '.join(unknown)} in your distribution."
            )
        lines.append(
            "The window needs them; `make test` runs without a display and does not."
            if at_setup
            else "Then start Desktop RAG again."
        )
        return "\n".join(lines)


NO_DISPLAY = (
    "Desktop RAG cannot open its window: there is no display here (neither DISPLAY nor "
    "WAYLAND_DISPLAY is set). Start it from a desktop session (or over `ssh -X`); without a "
    "screen, the command line does everything the window does: `desktop-rag --help`."
)


def no_display(env: Mapping[str, str] | None = None) -> bool:
    """On Linux, a window needs X11 or Wayland; a platform plugin chosen by QT_QPA_PLATFORM
    (offscreen, vnc …) is the person's own call."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return False
    return not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY")


def parse_ldd(text: str) -> tuple[str, ...]:
    """Sonames `ldd` reports as "not found", in its order, without repeats."""
    missing = [
        line.split("=>")[0].strip()
        for line in text.splitlines()
        if "=>" in line and line.split("=>")[1].strip() == "not found"
    ]
    return tuple(dict.fromkeys(missing))


def distro_family(os_release: str) -> str | None:
    """debian, fedora, arch or suse from /etc/os-release's ID and ID_LIKE; None if other."""
    ids: list[str] = []
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.extend(value.strip().strip('"').lower().split())
    aliases = {
        "debian": "debian", "ubuntu": "debian", "fedora": "fedora", "rhel": "fedora",
        "centos": "fedora", "arch": "arch", "suse": "suse", "opensuse": "suse",
    }  # fmt: skip
    for name in ids:
        for alias, family in aliases.items():
            if name == alias or name.startswith(alias + "-"):
                return family
    return None


def plugins_to_try(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt will try, in order; empty when none needs a display server."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        names = [part.split(":")[0].strip() for part in chosen.split(";") if part.strip()]
        return [] if any(n in _HEADLESS for n in names) else names
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def ldd_missing(library: Path) -> tuple[str, ...] | None:
    """What `ldd` cannot find for `library`; None when ldd is unavailable or fails."""
    try:
        out = subprocess.run(
            ["ldd", str(library)], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0 and "not found" not in out.stdout:
        return None
    return parse_ldd(out.stdout)


def _plugin_file(platforms: Path, name: str) -> Path | None:
    matches = sorted(platforms.glob(f"libq{name}*.so"))
    return matches[0] if matches else None


def check_display_libraries(
    env: Mapping[str, str] | None = None,
    plugins_dir: Path | None = None,
    os_release: str | None = None,
) -> MissingLibraries | None:
    """None if Qt can open a window here (or it cannot be told); else what is missing.

    Only Linux is checked: elsewhere Qt's platform plugin needs nothing outside PySide6.
    Qt tries the plugins of `plugins_to_try` in order, so one usable plugin is enough.
    """
    if not sys.platform.startswith("linux"):
        return None
    env = os.environ if env is None else env
    plugins_dir = plugins_dir or qt_plugins_dir()
    if plugins_dir is None:
        return None
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text(errors="replace")
        except OSError:
            os_release = ""
    family = distro_family(os_release)
    first_failure: MissingLibraries | None = None
    for name in plugins_to_try(env):
        plugin = _plugin_file(plugins_dir / "platforms", name)
        if plugin is None:
            continue
        missing = ldd_missing(plugin)
        if missing is None or not missing:
            return None
        failure = MissingLibraries(name, missing, family)
        # xcb's list is the one a person can act on (Wayland falls back to it).
        if first_failure is None or name == "xcb":
            first_failure = failure
    return first_failure


def deb_depends() -> str:
    """The `.deb`'s Depends entries for the display libraries (Debian package names)."""
    return ", ".join(dict.fromkeys(lib.debian for lib in QT_DISPLAY_LIBRARIES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop_rag.core.install.system_libs")
    parser.add_argument("--deb-depends", action="store_true", help="print the .deb's Depends")
    parser.add_argument("--setup", action="store_true", help="worded for the end of set-up")
    args = parser.parse_args(argv)
    if args.deb_depends:
        print(deb_depends())
        return 0
    problem = check_display_libraries({"QT_QPA_PLATFORM": "xcb"})
    if problem is None:
        print("Qt's display libraries: all present")
        return 0
    print(problem.message(at_setup=args.setup), file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
