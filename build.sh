#!/bin/sh
# POSIX entry point for machines without PowerShell (CI runs here). A thin wrapper: the same
# steps as build.ps1, which is the full build script once PowerShell 7 is installed.
#   ./build.sh build   the module folder out/ClusterDR (psd1, assemblies, format file, help)
#   ./build.sh help    only the help: MAML and the about topic from docs/en-US into out/ClusterDR/en-US
#   ./build.sh test    xunit suite (real etcd and sshd), then the Pester suite when pwsh exists
#   ./build.sh demo    the main job: backup, verify and restore a throwaway 3-member etcd (needs pwsh)
set -eu
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

build() {
    # Laid out afresh: a stale engine left in the module folder would load into the default context beside lib/'s.
    rm -rf out/ClusterDR
    # The cmdlets at the top, the engine and its dependencies in lib/ (ClusterDR.csproj), the PowerShell 7 loader beside them.
    dotnet publish src/ClusterDR/ClusterDR.csproj -c Release -o out/ClusterDR --nologo -v quiet
    dotnet publish src/ClusterDR.Isolation/ClusterDR.Isolation.csproj -c Release -o out/ClusterDR --nologo -v quiet
    rm -f out/ClusterDR/*.pdb out/ClusterDR/*.deps.json out/ClusterDR/lib/*.pdb
    help
}

# tools/HelpBuilder (Markdig, YamlDotNet) runs here and ships nothing but its output; it fails the build
# when an exported cmdlet has no page or a page lacks what Get-Help -Full shows.
help() {
    rm -rf out/ClusterDR/en-US
    dotnet run --project tools/HelpBuilder/HelpBuilder.csproj -c Release -v quiet -- docs/en-US ClusterDR.psd1 out/ClusterDR/en-US
}

count() { # count FILE.trx ATTRIBUTE
    sed -n 's/.*<Counters [^>]*\b'"$2"'="\([0-9]*\)".*/\1/p' "$1" | head -n 1
}

task=${1:-build}
case "$task" in
build)
    build
    ;;
help)
    help
    ;;
test)
    sh tests/tools/install-deps.sh
    build
    rm -rf out/test-results
    status=0
    dotnet test ClusterDR.sln -c Release --nologo --logger "trx;LogFileName=xunit.trx" --results-directory out/test-results || status=$?
    trx=out/test-results/xunit.trx
    passed=$(count "$trx" passed); failed=$(count "$trx" failed); total=$(count "$trx" total)
    passed=${passed:-0}; failed=${failed:-0}
    if [ "${total:-0}" -eq 0 ]; then echo "xunit ran no test" >&2; status=1; fi
    # The version matrix: the etcd, swarm and ZooKeeper suites again against the newer servers operators
    # run (Debian 13: etcd 3.5 with etcdutl, dockerd 26, ZooKeeper 3.9); the fixtures fail on any other version.
    newer=$(sh tests/tools/install-newer.sh) || { echo "The newer servers of the version matrix could not be fetched." >&2; exit 1; }
    eval "$newer"
    PATH="$NEWER_PATH:$PATH" ZK_CLASSPATH="$ZK_CLASSPATH" \
    CLUSTERDR_EXPECT_ETCD=3.5. CLUSTERDR_EXPECT_DOCKER=26. CLUSTERDR_EXPECT_ZOOKEEPER=3.9. \
    dotnet test ClusterDR.sln -c Release --no-build --nologo --logger "trx;LogFileName=newer.trx" --results-directory out/test-results \
        --filter "(FullyQualifiedName~ClusterDR.Tests.Etcd.|FullyQualifiedName~ClusterDR.Tests.Swarm.SwarmManagerTests|FullyQualifiedName~ClusterDR.Tests.ZooKeeper.ZkBackupRestoreTests)&FullyQualifiedName!~TwentyRestores" || status=$?
    trx=out/test-results/newer.trx
    np=$(count "$trx" passed); nf=$(count "$trx" failed); nt=$(count "$trx" total)
    if [ "${nt:-0}" -eq 0 ]; then echo "the version matrix ran no test" >&2; status=1; fi
    echo "version matrix (etcd 3.5, dockerd 26, ZooKeeper 3.9): ${np:-0} passed, ${nf:-0} failed"
    passed=$((passed + ${np:-0})); failed=$((failed + ${nf:-0}))
    # The Pester suite always runs: PowerShell and Pester come from NuGet when missing (tests/tools/install-pwsh.sh).
    pwsh=$(sh tests/tools/install-pwsh.sh) || { echo "PowerShell 7 or Pester 5 could not be installed: the Pester suite cannot run." >&2; exit 1; }
    PSModulePath="$PWD/out/tools/Modules${PSModulePath:+:$PSModulePath}"; export PSModulePath
    rm -f out/test-results/pester.counts
    "$pwsh" -NoProfile -NonInteractive -File build.ps1 -Task Pester -NoBuild || status=$?
    if [ -f out/test-results/pester.counts ]; then
        read -r pp pf < out/test-results/pester.counts
        passed=$((passed + pp)); failed=$((failed + pf))
    else
        echo "The Pester suite did not report its results." >&2; status=1; failed=$((failed + 1))
    fi
    echo "tests: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] || status=1
    exit "$status"
    ;;
demo)
    # PowerShell 7 from NuGet when it is missing; the demo itself installs etcd only.
    pwsh=$(sh tests/tools/install-pwsh.sh)
    build
    exec "$pwsh" -NoProfile -File build.ps1 -Task Demo -NoBuild
    ;;
*)
    pwsh=$(sh tests/tools/install-pwsh.sh)
    PSModulePath="$PWD/out/tools/Modules${PSModulePath:+:$PSModulePath}"; export PSModulePath
    exec "$pwsh" -NoProfile -File build.ps1 -Task "$task"
    ;;
esac
