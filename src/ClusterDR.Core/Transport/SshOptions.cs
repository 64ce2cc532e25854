namespace ClusterDR.Transport
{
    /// <summary>How to reach nodes with the OpenSSH client. Host keys are always checked unless AcceptNewHostKeys says so.</summary>
    public sealed class SshOptions
    {
        /// <summary>known_hosts file to check host keys against; null uses the ssh client's default (~/.ssh/known_hosts).</summary>
        public string KnownHostsFile { get; set; }
        /// <summary>Private key file (-i); IdentitiesOnly is set so ssh offers only this key.</summary>
        public string IdentityFile { get; set; }
        /// <summary>Trust-on-first-use: accept and record keys of hosts not seen before (changed keys are still refused).</summary>
        public bool AcceptNewHostKeys { get; set; }
        public int ConnectTimeoutSeconds { get; set; } = 15;
        /// <summary>The ssh client program.</summary>
        public string SshPath { get; set; } = "ssh";
        /// <summary>Reuse one connection per node (ControlMaster) where the client supports it (not on Windows).</summary>
        public bool ReuseConnections { get; set; } = true;
    }
}
