; Inno Setup 6 script for Desktop RAG (64-bit Windows 10/11).
;
; Build, from the repository root on Windows, after `pyinstaller --noconfirm packaging\desktop_rag.spec`:
;   "%ProgramFiles(x86)%\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\desktop_rag.iss
; Output: dist\desktop-rag-<version>-windows-x64-setup.exe
;
; Installs per user by default (no administrator rights needed; the user may choose "all
; users" in the first page). The app's data (index, settings, history) lives in
; %LOCALAPPDATA%\DesktopRAG and is kept on uninstall: it is the user's, and re-indexing
; a large folder takes long. See packaging/README.md.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "Desktop RAG"
#define GuiExe "desktop-rag-gui.exe"
#define CliExe "desktop-rag.exe"
; Paths are relative to this script's folder.
#define DistDir "..\..\dist\desktop-rag"
#define IconFile "..\..\resources\icons\desktop-rag.ico"

[Setup]
; A fixed AppId lets upgrades replace the old version in place; never change it.
AppId={{6F3C2B7E-9A41-4D8B-B1E5-0C7D2A9F4E13}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Desktop RAG
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=desktop-rag-{#AppVersion}-windows-x64-setup
#if FileExists(AddBackslash(SourcePath) + IconFile)
SetupIconFile={#IconFile}
#endif
UninstallDisplayIcon={app}\{#GuiExe}
UninstallDisplayName={#AppName}
WizardStyle=modern
; The bundle is about a gigabyte, mostly torch's libraries; LZMA2 in one solid block gives
; the smallest installer. Lower to lzma2/fast when build time matters more than size.
Compression=lzma2/max
SolidCompression=yes
LZMANumBlockThreads=4
LZMAUseSeparateProcess=yes
; Files in use (the app running during an upgrade) are closed through Restart Manager.
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade must not mix old and new libraries in _internal (PyInstaller loads whatever is there).
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#GuiExe}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#GuiExe}"; WorkingDir: "{app}"; Tasks: desktopicon
; The command line: a console in the install folder, where `desktop-rag selftest` works.
Name: "{autoprograms}\{#AppName} command line"; Filename: "{cmd}"; Parameters: "/k ""{app}\{#CliExe}"" --help"; WorkingDir: "{app}"

[Run]
Filename: "{app}\{#GuiExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

