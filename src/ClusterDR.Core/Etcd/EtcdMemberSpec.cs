using System;
using System.Collections.Generic;
using System.Linq;
using ClusterDR.Transport;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// How to reach and operate one etcd member for restore and repair. PowerShell converts a
    /// hashtable with these keys into it, e.g. @{ Name='e1'; Node='root@10.0.0.1'; PeerUrl='https://10.0.0.1:2380' }.
    /// </summary>
    public sealed class EtcdMemberSpec
    {
        public string Name { get; set; }
        /// <summary>"localhost" or an SSH target user@host:port.</summary>
        public string Node { get; set; } = "localhost";
        /// <summary>A Posh-SSH session for this member's node (instead of Node).</summary>
        public object SshSession { get; set; }
        public string PeerUrl { get; set; }
        public string ClientUrl { get; set; }
        public string DataDir { get; set; } = "/var/lib/etcd";
        /// <summary>systemd unit used when no Start/StopCommand is given.</summary>
        public string Unit { get; set; } = "etcd";
        /// <summary>sh command that stops the member and returns once it has exited.</summary>
        public string StopCommand { get; set; }
        /// <summary>sh command that starts the member (in the background) and returns.</summary>
        public string StartCommand { get; set; }
        public string EtcdctlPath { get; set; } = "etcdctl";

        internal string EffectiveStop => StopCommand ?? "systemctl stop " + Sh.Quote(Unit);
        internal string EffectiveStart => StartCommand ?? "systemctl start " + Sh.Quote(Unit);
        internal string Label => $"etcd member {Name} ({(SshSession != null ? "ssh session" : Node)})";

        internal void Validate()
        {
            string Missing(string what) => $"etcd member {(Name ?? "(no name)")} needs {what}";
            var problems = new List<string>();
            if (string.IsNullOrWhiteSpace(Name)) problems.Add(Missing("a Name"));
            if (!IsUrl(PeerUrl)) problems.Add(Missing("a PeerUrl such as http://10.0.0.1:2380"));
            if (!IsUrl(ClientUrl)) problems.Add(Missing("a ClientUrl such as http://10.0.0.1:2379"));
            if (string.IsNullOrWhiteSpace(DataDir) || !DataDir.StartsWith("/", StringComparison.Ordinal) || DataDir.TrimEnd('/').Length < 2)
                problems.Add(Missing("an absolute DataDir that is not /"));
            if (problems.Count > 0)
                throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, string.Join("; ", problems) + ".", this);
            if (SshSession == null) NodeAddress.Parse(Node ?? "localhost");
        }

        private static bool IsUrl(string s) =>
            Uri.TryCreate(s, UriKind.Absolute, out var u) && (u.Scheme == "http" || u.Scheme == "https");

        internal static void ValidateAll(IList<EtcdMemberSpec> members)
        {
            if (members == null || members.Count == 0)
                throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, "Describe every etcd member (-Member).");
            foreach (var m in members) m.Validate();
            var dup = members.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (dup != null)
                throw new ClusterDrException(ErrorIds.InvalidMember, ErrorKind.InvalidArgument, $"Two members are named {dup.Key}.", dup.Key);
        }

        public override string ToString() => Name;
    }
}
