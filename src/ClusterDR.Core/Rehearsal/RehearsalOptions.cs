using System;
using System.Security;

namespace ClusterDR.Rehearsal
{
    /// <summary>What Test-ClusterBackup -Rehearse passes the engine.</summary>
    public sealed class RehearsalOptions
    {
        /// <summary>Directories searched before PATH for etcd, etcdutl/etcdctl, java and ZooKeeper's jars, dockerd, PostgreSQL's programs.</summary>
        public string[] ToolPath { get; set; } = new string[0];
        /// <summary>How long a throwaway server may take to serve.</summary>
        public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromMinutes(2);
        /// <summary>The unlock key of an autolocked swarm backup (the one current when it was taken).</summary>
        public SecureString UnlockKey { get; set; }
    }
}
