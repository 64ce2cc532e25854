# Dot-sourced by the Pester files that start servers: one way to pick their ports.

function Get-FreePortRun([int] $Count = 1, [int] $Minimum = 10000, [int] $Maximum = 19000) {
    # Below Linux's ephemeral range (32768+): a restarted server must not find its port taken by an outgoing connection.
    while ($true) {
        $start = Get-Random -Minimum $Minimum -Maximum $Maximum
        $free = $true
        foreach ($p in $start..($start + $Count - 1)) {
            try { $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, $p); $l.Start(); $l.Stop() } catch { $free = $false }
        }
        if ($free) { return $start }
    }
}
