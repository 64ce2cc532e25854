#!/bin/sh
# nuget-package.sh ID VERSION: the NuGet package ID at exactly VERSION, fetched once through a throwaway csproj's
# PackageDownload (`dotnet restore`) and cached under out/tools/nuget; prints the package's folder (lower-case id/version).
set -eu
id=${1:?usage: nuget-package.sh ID VERSION}
version=${2:?usage: nuget-package.sh ID VERSION}
root=$(cd "$(dirname "$0")/../.." && pwd)
work="$root/out/tools/nuget"
lower=$(printf '%s' "$id" | tr 'A-Z' 'a-z')
dir="$work/packages/$lower/$version"
if [ ! -f "$dir/.nupkg.metadata" ]; then
    echo "Fetching $id $version (NuGet) into $dir..." >&2
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
    proj="$work/restore-$lower-$version"
    mkdir -p "$proj"
    cat > "$proj/download.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="$id" Version="[$version]" /></ItemGroup>
</Project>
XML
    dotnet restore "$proj/download.csproj" --packages "$work/packages" --nologo -v quiet >&2
fi
echo "$dir"
