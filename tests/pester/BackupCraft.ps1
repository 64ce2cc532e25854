# Dot-sourced by the rehearsal tests: makes a backup that verifies but must not rehearse, the way a bad one slips by.
# Edit-TestBackup unpacks a .tar.zst backup with GNU tar and zstd, lets -Edit change the files (its argument is the
# dir), writes the manifest's file list again from what is there (size and SHA-256 of each), and packs it as
# ClusterDR does: manifest.json first, the other entries in their old order (a payload index stays last), new files at
# the end. -Manifest may change the manifest object too.
function Edit-TestBackup([string] $Path, [string] $Destination, [scriptblock] $Edit, [scriptblock] $Manifest) {
    $work = Join-Path ([IO.Path]::GetTempPath()) "clusterdr-craft-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $null = New-Item -ItemType Directory $work
    try {
        & tar --zstd -x -C $work -f $Path
        if ($LASTEXITCODE -ne 0) { throw "tar could not unpack $Path" }
        $order = @(& tar --zstd -t -f $Path | ForEach-Object { $_.TrimEnd('/') })
        if ($Edit) { & $Edit $work }
        $m = Get-Content -Raw "$work/manifest.json" | ConvertFrom-Json -DateKind String
        $m.files = @(foreach ($f in $m.files) {
                $file = Join-Path $work $f.path
                if (Test-Path -LiteralPath $file) {
                    [pscustomobject]@{ path = $f.path; size = (Get-Item -LiteralPath $file).Length; sha256 = (Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant() }
                }
            })
        if ($Manifest) { & $Manifest $m }
        [IO.File]::WriteAllText("$work/manifest.json", ($m | ConvertTo-Json -Depth 10))
        $null = New-Item -ItemType Directory -Force (Split-Path $Destination)
        $kept = @($order | Where-Object { $_ -ne 'manifest.json' -and (Test-Path -LiteralPath (Join-Path $work $_)) })
        $added = @(Get-ChildItem -LiteralPath $work -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($work, $_.FullName) } |
                Where-Object { $_ -ne 'manifest.json' -and $_ -notin $kept })
        $names = @('manifest.json') + $kept + $added
        & sh -c 'cd "$1" && shift && out=$1 && shift && tar --no-recursion -cf - "$@" | zstd -q -1 -o "$out"' sh $work $Destination @names
        if ($LASTEXITCODE -ne 0) { throw "tar could not pack $Destination" }
        Get-Item -LiteralPath $Destination
    }
    finally { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore }
}

# What a rehearsal must leave behind: nothing. Its dirs, the processes started from them, and its network namespaces.
function Get-RehearsalTrace {
    $tmp = [IO.Path]::GetTempPath()
    @(Get-ChildItem -LiteralPath $tmp -Directory -Filter 'clusterdr-rehearsal-*' -ErrorAction Ignore | ForEach-Object FullName) +
    @(Get-ChildItem /proc -Directory -ErrorAction Ignore | Where-Object Name -match '^\d+$' | ForEach-Object {
            $cmd = try { [IO.File]::ReadAllText("$($_.FullName)/cmdline") } catch { '' }
            if ($cmd -like '*clusterdr-rehearsal-*') { "process $($_.Name): $($cmd -replace "`0", ' ')" }
        }) +
    @(if (Get-Command ip -ErrorAction Ignore) { & ip netns list 2>$null | Where-Object { $_ -like 'cdr-rh-*' } | ForEach-Object { "netns $_" } })
}
