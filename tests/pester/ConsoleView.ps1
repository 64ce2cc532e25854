# Dot-sourced by the Pester files: every default view must read in an 80-column console.
function Assert-FitsConsole {
    <#
    Renders objects with their default view as an 80-column console does: its host lays tables out at one
    column less (a table of exactly 80 wraps its last header there), so at 79. No line may be longer; for a table, the first
    line must be exactly the given column labels, in order (a label broken across lines, a lost column or
    a different first column all fail). Returns the text for further checks.
    #>
    param([Parameter(Mandatory)] [object[]] $InputObject, [string[]] $Columns)
    $text = $InputObject | Out-String -Width 79
    $lines = $text -split "`r?`n"
    foreach ($line in $lines) { $line.Length | Should -BeLessOrEqual 79 -Because "'$line' must fit an 80-column console" }
    if ($Columns) {
        $header = $lines | Where-Object { $_.Trim() } | Select-Object -First 1
        -split $header | Should -Be $Columns -Because "the header in an 80-column console is '$header'"
    }
    $text
}
