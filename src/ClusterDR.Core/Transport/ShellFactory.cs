namespace ClusterDR.Transport
{
    /// <summary>Picks the transport for a node: a Posh-SSH session when given, else local or OpenSSH by address.</summary>
    public static class ShellFactory
    {
        public static IRemoteShell Create(string node, object sshSession, SshOptions ssh)
        {
            if (sshSession != null) return new SshNetSessionShell(sshSession);
            var address = NodeAddress.Parse(string.IsNullOrEmpty(node) ? "localhost" : node);
            if (address.IsLocal) return new LocalShell();
            return new OpenSshShell(address, ssh);
        }
    }
}
