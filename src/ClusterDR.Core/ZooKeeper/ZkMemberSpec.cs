using System;
using System.Collections.Generic;
using System.Linq;
using ClusterDR.Transport;

namespace ClusterDR.ZooKeeper
{
    /// <summary>
    /// How to reach and operate one ZooKeeper server for backup and restore. PowerShell converts a
    /// hashtable with these keys into it, e.g.
    /// @{ Id=1; Name='m1'; Node='root@10.0.0.1'; ClientAddress='10.0.0.1:2181'; DataDir='/var/lib/dcos/exhibitor/zookeeper/snapshot'; DataLogDir='/var/lib/dcos/exhibitor/zookeeper/transactions' }.
    /// </summary>
    public sealed class ZkMemberSpec
    {
        /// <summary>The server's myid (server.N in zoo.cfg).</summary>
        public int Id { get; set; }
        public string Name { get; set; }
        /// <summary>"localhost" or an SSH target user@host:port.</summary>
        public string Node { get; set; } = "localhost";
        /// <summary>A Posh-SSH session for this server's node (instead of Node).</summary>
        public object SshSession { get; set; }
        /// <summary>host:port of the client port, reachable from this machine (four-letter words).</summary>
        public string ClientAddress { get; set; }
        /// <summary>zoo.cfg dataDir (holds myid and version-2 snapshots).</summary>
        public string DataDir { get; set; }
        /// <summary>zoo.cfg dataLogDir when it differs from dataDir (version-2 transaction logs).</summary>
        public string DataLogDir { get; set; }
        /// <summary>systemd unit used when no Start/StopCommand is given (DC/OS: Exhibitor runs ZooKeeper).</summary>
        public string Unit { get; set; } = "dcos-exhibitor";
        /// <summary>sh command that stops the server and returns once it has exited.</summary>
        public string StopCommand { get; set; }
        /// <summary>sh command that starts the server (in the background) and returns.</summary>
        public string StartCommand { get; set; }

        internal string EffectiveStop => StopCommand ?? "systemctl stop " + Sh.Quote(Unit);
        internal string EffectiveStart => StartCommand ?? "systemctl start " + Sh.Quote(Unit);
        internal string DisplayName => string.IsNullOrEmpty(Name) ? ClientAddress : Name;
        internal string Label => $"ZooKeeper server {DisplayName} ({(SshSession != null ? "ssh session" : Node)})";
        internal bool SeparateLogDir => !string.IsNullOrEmpty(DataLogDir) && DataLogDir.TrimEnd('/') != (DataDir ?? "").TrimEnd('/');
        internal string LogDir => SeparateLogDir ? DataLogDir : DataDir;
        internal IEnumerable<string> Dirs => SeparateLogDir ? new[] { DataDir, DataLogDir } : new[] { DataDir };

        /// <summary>Checks the spec; <paramref name="needsDataDir"/> is false for a backup (the server's conf fills it in).</summary>
        internal void Validate(bool needsId, bool needsDataDir)
        {
            string who = DisplayName ?? "(no name)";
            var problems = new List<string>();
            if (needsId && (Id < 1 || Id > 255)) problems.Add($"ZooKeeper server {who} needs its myid as Id (1 to 255)");
            if (!ZkClient.TryParseAddress(ClientAddress, out _, out _)) problems.Add($"ZooKeeper server {who} needs a ClientAddress such as 10.0.0.1:2181");
            if (needsDataDir && string.IsNullOrWhiteSpace(DataDir)) problems.Add($"ZooKeeper server {who} needs its DataDir (zoo.cfg dataDir)");
            foreach (var d in new[] { DataDir, DataLogDir }.Where(d => !string.IsNullOrWhiteSpace(d)))
                if (!d.StartsWith("/", StringComparison.Ordinal) || d.TrimEnd('/').Length < 2)
                    problems.Add($"ZooKeeper server {who}: '{d}' must be an absolute directory that is not /");
            if (problems.Count > 0)
                throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, string.Join("; ", problems) + ".", this);
            if (SshSession == null) NodeAddress.Parse(Node ?? "localhost");
        }

        internal static void ValidateAll(IList<ZkMemberSpec> members)
        {
            if (members == null || members.Count == 0)
                throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, "Describe every ZooKeeper server (-Member).");
            foreach (var m in members) m.Validate(needsId: true, needsDataDir: true);
            var dup = members.GroupBy(m => m.Id).FirstOrDefault(g => g.Count() > 1);
            if (dup != null)
                throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, $"Two servers have myid {dup.Key}.", dup.Key);
            var dupName = members.GroupBy(m => m.DisplayName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (dupName != null)
                throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, $"Two servers are named {dupName.Key}.", dupName.Key);
        }

        internal ZkMemberSpec MemberwiseCloneSpec() => (ZkMemberSpec)MemberwiseClone();

        public override string ToString() => DisplayName;
    }
}
