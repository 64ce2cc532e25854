#!/bin/sh
# PowerShell 7.6.9 (the NuGet dotnet tool) and Pester 5.9.1 (the NuGet package; its tools/ folder is the
# module), cached under out/tools, for machines that have only the .NET SDK. Prints the pwsh to use.
# A pwsh already on PATH is used as it is; Pester is always the pinned copy (PSModulePath gets out/tools/Modules).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
tools="$root/out/tools"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if command -v pwsh >/dev/null 2>&1; then
    pwsh=$(command -v pwsh)
else
    pwsh="$tools/pwsh/pwsh"
    if [ ! -x "$pwsh" ]; then
        echo "Installing PowerShell 7.6.9 (dotnet tool) into $tools/pwsh..." >&2
        dotnet tool install PowerShell --version 7.6.9 --tool-path "$tools/pwsh" >&2
    fi
fi
pester="$tools/Modules/Pester/5.9.1"
if [ ! -f "$pester/Pester.psd1" ]; then
    package=$(sh "$root/tests/tools/nuget-package.sh" Pester 5.9.1)
    mkdir -p "$pester"
    cp -R "$package/tools/." "$pester/"
fi
echo "$pwsh"
