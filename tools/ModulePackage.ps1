# The two packages of a built module folder, dot-sourced by build.psm1 (Package) and tests/pester/Package.Tests.ps1.

function New-ModulePackage {
    <#
    .SYNOPSIS
        Writes <Out>/<Name>.zip (Azure Automation: the module folder at the zip's root) and the gallery's
        <Out>/<Name>.<version>.nupkg (Compress-PSResource) from a built module folder, taken whole.
    #>
    param([Parameter(Mandatory)] [string] $Module, [Parameter(Mandatory)] [string] $Out)
    $name = Split-Path $Module -Leaf
    $manifestPath = Join-Path $Module "$name.psd1"
    $manifest = Import-PowerShellDataFile $manifestPath
    # A package without help would install a module whose Get-Help shows only the syntax.
    foreach ($file in "$($manifest.RootModule)-Help.xml", "about_$name.help.txt") {
        if (-not (Test-Path (Join-Path $Module "en-US/$file"))) { throw "$Module has no en-US/$($file): run the Build task first." }
    }
    $null = New-Item -ItemType Directory -Force $Out

    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $zip = Join-Path $Out "$name.zip"
    Remove-Item $zip -ErrorAction Ignore
    [System.IO.Compression.ZipFile]::CreateFromDirectory($Module, $zip, [System.IO.Compression.CompressionLevel]::Optimal, $true)

    # The gallery derives PSIncludes_Cmdlet and PSCommand_<name> from the manifest when a module is published to
    # it; Find-Command and Find-PSResource -CommandName read them from the nuspec, so a copy that is compressed
    # carries them in its manifest's tags (any other repository serves the nupkg as it is).
    $stage = Join-Path $Out "package-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $staged = Join-Path $stage $name
    try {
        $null = New-Item -ItemType Directory -Force $stage
        Copy-Item -Recurse $Module $staged
        $commandTags = @('PSIncludes_Cmdlet') + ($manifest.CmdletsToExport | ForEach-Object { "PSCmdlet_$_", "PSCommand_$_" }) | Where-Object { $_ -notin $manifest.PrivateData.PSData.Tags }
        $psd1 = Join-Path $staged "$name.psd1"
        $text = Get-Content -Raw $psd1
        $tagged = $text -replace '(\bTags\s*=\s*@\()', ('$1' + (($commandTags | ForEach-Object { "'$_'" }) -join ', ') + ', ')
        if ($tagged -eq $text) { throw "$manifestPath has no PrivateData.PSData.Tags = @(...) to add the command tags to." }
        Set-Content -Path $psd1 -Value $tagged -NoNewline
        $nupkg = Join-Path $Out "$name.$($manifest.ModuleVersion).nupkg"
        Remove-Item $nupkg -ErrorAction Ignore
        Compress-PSResource -Path $staged -DestinationPath $Out
    }
    finally { Remove-Item -Recurse -Force $stage -ErrorAction Ignore }
    Get-Item $zip, $nupkg
}
