using System.Collections.Generic;

namespace ClusterDR.Transport
{
    /// <summary>The node is this machine: scripts run under /bin/sh as the current user.</summary>
    public sealed class LocalShell : ProcessShell
    {
        public override string Node => "localhost";
        protected override (string FileName, IList<string> Args) Launch(string script) => ("/bin/sh", new[] { "-c", script });
    }
}
