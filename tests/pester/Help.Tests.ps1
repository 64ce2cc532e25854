#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The help the build generates (tools/HelpBuilder), as Get-Help shows it for every exported cmdlet.

BeforeDiscovery {
    $manifest = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    $cmdlets = (Import-PowerShellDataFile $manifest).CmdletsToExport | ForEach-Object { @{ Name = $_ } }
}

BeforeAll {
    $script:module = if ($env:CLUSTERDR_MODULE) { $env:CLUSTERDR_MODULE } else { Join-Path $PSScriptRoot '../../out/ClusterDR/ClusterDR.psd1' }
    Import-Module $script:module -Force
    $script:exported = (Import-PowerShellDataFile $script:module).CmdletsToExport
    # -WhatIf and -Confirm are documented on every page that has them; the always-present common parameters are PowerShell's.
    $script:common = [System.Management.Automation.Cmdlet]::CommonParameters
}

Describe 'Get-Help <Name> -Full' -ForEach $cmdlets {
    BeforeAll {
        $help = Get-Help $Name -Full
        $command = Get-Command $Name
        $text = $help | Out-String -Width 200
    }

    It 'has a synopsis that is not the syntax' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match ('^\s*' + [regex]::Escape($Name) + '\s+\[')
        $help.Synopsis.Trim() | Should -Not -Be (Get-Command $Name -Syntax).Trim()
    }

    It 'has a description' {
        ($help.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $parameters = $command.Parameters.Keys | Where-Object { $_ -notin $common }
        $parameters | Should -Not -BeNullOrEmpty
        foreach ($p in $parameters) {
            $entry = $help.parameters.parameter | Where-Object name -eq $p
            ($entry.description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }

    It 'says in every parameter set whether each parameter binds from the pipeline, as the cmdlet does' {
        # The docs' yaml blocks (docs/en-US, the source of the help): one or more per parameter, each naming its sets.
        $entries = @{}
        $param = $null
        $block = $null
        foreach ($line in Get-Content (Join-Path $PSScriptRoot "../../docs/en-US/$Name.md")) {
            if ($line -match '^### -(\w+)') { $param = $Matches[1]; $entries[$param] = @(); continue }
            if ($line -match '^## ') { $param = $null; continue }
            if (-not $param) { continue }
            if ($line -eq '```yaml') { $block = @{}; continue }
            if ($null -ne $block -and $line -eq '```') { $entries[$param] += $block; $block = $null; continue }
            if ($null -ne $block -and $line -match '^([^:]+):\s*(.*)$') { $block[$Matches[1]] = $Matches[2].Trim() }
        }
        foreach ($p in $command.Parameters.Values | Where-Object { $_.Name -notin $common }) {
            foreach ($set in $p.ParameterSets.GetEnumerator()) {
                $ways = @(if ($set.Value.ValueFromPipeline) { 'ByValue' }; if ($set.Value.ValueFromPipelineByPropertyName) { 'ByPropertyName' })
                $said = @($entries[$p.Name] | Where-Object {
                        $named = $_['Parameter Sets'] -split ',\s*'
                        $set.Key -eq '__AllParameterSets' -or $named -contains '(All)' -or $named -contains $set.Key
                    } | ForEach-Object { $_['Accept pipeline input'] } | Select-Object -Unique)
                $said.Count | Should -Be 1 -Because "-$($p.Name) in set $($set.Key) needs one yaml block saying whether it takes pipeline input"
                if ($ways.Count -eq 0) { $said[0] | Should -Be 'False' -Because "-$($p.Name) takes no pipeline input in set $($set.Key)" }
                else {
                    $said[0] -match '^True \((.+)\)$' | Should -BeTrue -Because "-$($p.Name) binds from the pipeline in set $($set.Key), not '$($said[0])'"
                    @($Matches[1] -split ',\s*' | Sort-Object) | Should -Be @($ways | Sort-Object) -Because "-$($p.Name) in set $($set.Key)"
                }
            }
        }
    }

    It 'has an example with code, and -Full shows every example' {
        $examples = @($help.examples.example)
        @($examples | Where-Object { $_.code.Trim() }).Count | Should -BeGreaterThan 0
        foreach ($e in $examples) { $text | Should -BeLike "*$($e.title.Trim('- '))*" }
    }

    It 'names its inputs and outputs, and has notes' {
        @($help.inputTypes.inputType.type.name | Where-Object { $_ }).Count | Should -BeGreaterThan 0
        @($help.returnValues.returnValue.type.name | Where-Object { $_ }).Count | Should -BeGreaterThan 0
        ($help.alertSet.alert.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        $text | Should -Match 'INPUTS'
        $text | Should -Match 'OUTPUTS'
        $text | Should -Match 'NOTES'
    }

    It 'opens its docs page online' {
        $page = "https://github.com/clusterdr/ClusterDR/blob/main/docs/en-US/$Name.md"
        @((Get-Help $Name).relatedLinks.navigationLink.uri)[0] | Should -Be $page
        $command.HelpUri | Should -Be $page
    }
}

Describe 'about_ClusterDR' {
    BeforeAll { $about = Get-Help about_ClusterDR | Out-String }

    It 'is the current plain text, not markdown' {
        $about | Should -Match '^\s*TOPIC\s+about_ClusterDR'
        $about | Should -Match 'the Deis v1 platform store'
        $about | Should -Not -Match 'This release covers etcd and the DC/OS backup'
        $about | Should -Not -Match '```'
        $about | Should -Not -Match '\|---'
    }

    It 'lists every exported cmdlet' {
        foreach ($c in $exported) { $about | Should -Match ('(?m)^\s+' + [regex]::Escape($c) + '\s{2,}\S') -Because "$c belongs in the table" }
    }
}

Describe 'The module folder' {
    It 'holds the help and none of the build-time packages' {
        $dir = Split-Path $module
        Join-Path $dir 'en-US/ClusterDR.dll-Help.xml' | Should -Exist
        Join-Path $dir 'en-US/about_ClusterDR.help.txt' | Should -Exist
        Get-ChildItem $dir -Recurse -File | Where-Object Name -match '^(Markdig|YamlDotNet)' | Should -BeNullOrEmpty
    }
}
