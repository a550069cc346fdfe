"""Qt's display libraries: found missing on a real ELF file, named with the install command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_rag import app
from desktop_rag.core.install import system_libs
from desktop_rag.core.install.system_libs import (
    BY_SONAME,
    MissingLibraries,
    check_display_libraries,
    deb_depends,
    distro_family,
    parse_ldd,
    plugins_to_try,
)
from desktop_rag.core.paths import qt_plugins_dir

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF and ldd")
GLIBC = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1"}

LDD_OUT = """\
\tlinux-vdso.so.1 (0x00007ffd1a9f2000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0a1c000000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f0a1bff0000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
"""


def test_ldd_output_gives_the_missing_sonames_once_in_order():
    assert parse_ldd(LDD_OUT) == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")


@pytest.mark.parametrize(
    ("os_release", "family"),
    [
        ('ID=debian\nVERSION_ID="12"', "debian"),
        ("ID=ubuntu\nID_LIKE=debian", "debian"),
        ('ID=linuxmint\nID_LIKE="ubuntu debian"', "debian"),
        ("ID=fedora", "fedora"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"', "fedora"),
        ("ID=arch", "arch"),
        ('ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"', "suse"),
        ("ID=alpine", None),
        ("", None),
    ],
)
def test_distribution_family_from_os_release(os_release, family):
    assert distro_family(os_release) == family


def test_the_install_command_uses_each_distributions_package_names():
    sonames = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1")
    assert MissingLibraries("xcb", sonames, "debian").install_command() == (
        "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    )
    assert MissingLibraries("xcb", sonames, "fedora").install_command() == (
        "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms"
    )
    assert MissingLibraries("xcb", sonames, "arch").install_command() == (
        "sudo pacman -S --needed xcb-util-cursor xcb-util-wm xcb-util-keysyms"
    )
    unknown = MissingLibraries("xcb", sonames, None).message()
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1" in unknown
    assert "Debian and Ubuntu: sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in (
        unknown
    )


def test_plugins_qt_tries_follow_the_environment():
    assert plugins_to_try({}) == ["xcb"]
    assert plugins_to_try({"WAYLAND_DISPLAY": "wayland-0"}) == ["wayland", "xcb"]
    assert plugins_to_try({"QT_QPA_PLATFORM": "offscreen"}) == []
    assert plugins_to_try({"QT_QPA_PLATFORM": "wayland;xcb"}) == ["wayland", "xcb"]
    assert plugins_to_try({"QT_QPA_PLATFORM": "xcb:display=:1"}) == ["xcb"]


def _compile_so(cc: str, directory: Path, name: str, needs: list[str]) -> Path:
    src = directory / f"{name}.c"
    src.write_text(f"int {name.replace('-', '_').replace('.', '_')}_fn(void) {{ return 1; }}\n")
    out = directory / name
    links = [f"-l:{n}" for n in needs]
    subprocess.run(
        [cc, "-shared", "-fPIC", "-o", str(out), str(src), f"-L{directory}",
         "-Wl,--no-as-needed", *links],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


ABSENT = ("libdesktop-rag-absent-cursor.so.0", "libdesktop-rag-absent-keysyms.so.1")


@linux_only
def test_a_plugin_linked_to_an_absent_library_is_reported_with_the_apt_command(
    tmp_path, monkeypatch
):
    """A real ELF plugin whose two libraries are not on this system (stand-ins built for
    the link, then deleted), as libxcb-cursor0 and libxcb-keysyms1 on a fresh Debian."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or shutil.which("ldd") is None:
        pytest.skip("needs a C compiler and ldd")
    build = tmp_path / "build"
    build.mkdir()
    stand_ins = [_compile_so(cc, build, name, []) for name in ABSENT]
    platforms = tmp_path / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    shutil.move(_compile_so(cc, build, "libqxcb.so", list(ABSENT)), platforms / "libqxcb.so")
    for path in stand_ins:
        path.unlink()
    problem = check_display_libraries({}, tmp_path / "plugins", "ID=debian\n")
    assert problem is not None and problem.plugin == "xcb"
    assert problem.sonames == ABSENT
    assert "Find the package that provides " + ", ".join(ABSENT) in problem.message()
    # With the table knowing them (as it knows the real xcb libraries): the exact command.
    monkeypatch.setitem(BY_SONAME, ABSENT[0], BY_SONAME["libxcb-cursor.so.0"])
    monkeypatch.setitem(BY_SONAME, ABSENT[1], BY_SONAME["libxcb-keysyms.so.1"])
    message = problem.message()
    assert "Qt's xcb display plugin needs system libraries" in message
    assert "sudo apt install libxcb-cursor0 libxcb-keysyms1" in message
    assert "Find the package" not in message
    # Headless platforms need none of it, and a usable Wayland plugin is enough.
    assert check_display_libraries({"QT_QPA_PLATFORM": "offscreen"}, tmp_path / "plugins") is None
    _compile_so(cc, platforms, "libqwayland.so", [])
    assert check_display_libraries({"WAYLAND_DISPLAY": "w"}, tmp_path / "plugins", "") is None


def _needed(path: Path) -> list[str]:
    out = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True, check=True)
    return [
        line.split()[1] for line in out.stdout.splitlines() if line.strip().startswith("NEEDED")
    ]


@linux_only
def test_the_table_covers_everything_the_real_display_plugins_need_from_the_system():
    plugins = qt_plugins_dir()
    if plugins is None or shutil.which("objdump") is None:
        pytest.skip("needs PySide6 and objdump")
    qt_lib = plugins.parent / "lib"
    todo = [plugins / "platforms" / "libqxcb.so", plugins / "platforms" / "libqwayland.so"]
    seen: set[str] = set()
    from_system: set[str] = set()
    while todo:
        for name in _needed(todo.pop()):
            if name in seen:
                continue
            seen.add(name)
            if (qt_lib / name).exists():
                todo.append(qt_lib / name)
            elif name not in GLIBC and not name.startswith("ld-linux"):
                from_system.add(name)
    assert {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"} <= from_system
    assert from_system <= set(BY_SONAME), sorted(from_system - set(BY_SONAME))
    depends = deb_depends().split(", ")
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libegl1"} <= set(depends)


def test_without_any_display_the_launcher_says_so_instead_of_crashing_in_qt(monkeypatch, capsys):
    assert system_libs.no_display({}) is sys.platform.startswith("linux")
    assert not system_libs.no_display({"DISPLAY": ":0"})
    assert not system_libs.no_display({"WAYLAND_DISPLAY": "wayland-0"})
    assert not system_libs.no_display({"QT_QPA_PLATFORM": "offscreen"})
    monkeypatch.setattr(app, "check_display_libraries", lambda: None)
    monkeypatch.setattr(app, "no_display", lambda: True)
    assert app.main(["--data-dir", "/nonexistent/never-created"]) == 1
    assert "there is no display here" in capsys.readouterr().err


def test_the_launcher_prints_the_command_and_exits_before_qt_starts(monkeypatch, capsys):
    problem = MissingLibraries("xcb", ("libxcb-cursor.so.0",), "debian")
    monkeypatch.setattr(app, "check_display_libraries", lambda: problem)
    assert app.main(["--data-dir", "/nonexistent/never-created"]) == 1
    err = capsys.readouterr().err
    assert "sudo apt install libxcb-cursor0" in err
    assert not Path("/nonexistent/never-created").exists()


def test_the_command_line_check_exits_1_with_the_message(monkeypatch, capsys):
    problem = MissingLibraries("xcb", ("libxcb-icccm.so.4",), "debian")
    monkeypatch.setattr(system_libs, "check_display_libraries", lambda env: problem)
    assert system_libs.main([]) == 1
    assert "sudo apt install libxcb-icccm4" in capsys.readouterr().err
    assert system_libs.main(["--setup"]) == 1
    assert "`make test` runs without a display" in capsys.readouterr().err
    assert system_libs.main(["--deb-depends"]) == 0
    assert "libxcb-icccm4" in capsys.readouterr().out
