#!/bin/sh
# The POSIX front of build.ps1 (whose steps are in build.psm1): brings PowerShell 7 when it is missing (the NuGet dotnet
# tool and Pester into out/tools, tests/tools/install-pwsh.sh) and runs the task there.
#   ./build.sh build     the module folder out/ClusterDR (psd1, assemblies, format file, help)
#   ./build.sh help      only the help: MAML and the about topic from docs/en-US into out/ClusterDR/en-US
#   ./build.sh test      the servers, xunit, the version matrix and the Pester suite; the last line counts them all
#   ./build.sh demo      the main job: backup, verify and restore a throwaway 3-member etcd
#   ./build.sh Package   the Azure Automation zip and the gallery .nupkg (any other task of build.ps1 by its name)
set -eu
cd "$(dirname "$0")"
pwsh=$(sh tests/tools/install-pwsh.sh) || { echo "PowerShell 7 or Pester 5 could not be installed (tests/tools/install-pwsh.sh): nothing can be built." >&2; exit 1; }
PSModulePath="$PWD/out/tools/Modules${PSModulePath:+:$PSModulePath}"; export PSModulePath
task=${1:-build}
case "$task" in
help) task=Docs ;;
esac
exec "$pwsh" -NoProfile -File build.ps1 -Task "$task"
