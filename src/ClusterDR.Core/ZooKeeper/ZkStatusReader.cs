using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace ClusterDR.ZooKeeper
{
    /// <summary>One server to ask: its client address (four-letter words) or its AdminServer URL.</summary>
    public sealed class ZkTarget
    {
        public string Name { get; set; }
        public string Address { get; set; }
        public Uri AdminUri { get; set; }
        /// <summary>The myid when known beforehand (restore specs); matched against conf's serverId.</summary>
        public int Id { get; set; }
    }

    /// <summary>
    /// Builds a ZooKeeper ensemble's QuorumStatus by asking every server in parallel. Servers that the
    /// ensemble's configuration (conf) lists but nobody named are added as not listed, so that the
    /// quorum arithmetic is over the whole ensemble. Observers are shown but never count for quorum.
    /// </summary>
    public static class ZkStatusReader
    {
        public const string Platform = ExhibitorStatusReader.Platform;

        public static QuorumStatus Read(IEnumerable<ZkTarget> targets, TimeSpan timeout, CancellationToken ct, string cluster = null)
        {
            var list = targets.ToList();
            if (list.Count == 0)
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument, "Name at least one ZooKeeper server (host:port).");
            foreach (var t in list.Where(t => t.AdminUri == null)) ZkClient.ParseAddress(t.Address);
            var probes = Transport.ProbeThreads.Run(list.Count, i =>
            {
                var t = list[i];
                try { return (t, info: t.AdminUri != null ? ZkClient.ProbeAdmin(t.AdminUri, timeout, ct) : ZkClient.Probe(t.Address, timeout, ct, withMntr: true), error: (ZkProbeException)null); }
                catch (ZkProbeException ex) { return (t, info: (ZkServerInfo)null, error: ex); }
            });
            Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
            var members = new List<ZkMember>();
            var membership = new Dictionary<int, string>();
            foreach (var (t, info, error) in probes)
            {
                var m = new ZkMember
                {
                    Name = t.Name ?? t.Address ?? t.AdminUri.Authority,
                    Id = t.Id > 0 ? t.Id.ToString(CultureInfo.InvariantCulture) : null,
                    ClientUrls = t.Address != null ? new[] { t.Address } : new string[0],
                };
                if (info == null)
                {
                    m.ProvenDown = error.Failure == ZkProbeFailure.Refused;
                    m.Problem = m.ProvenDown ? "down (connection refused)" : "unreachable: " + error.Message;
                }
                else
                {
                    m.Endpoint = t.AdminUri?.ToString() ?? t.Address;
                    if (info.ServerId > 0) m.Id = info.ServerId.ToString(CultureInfo.InvariantCulture);
                    m.Healthy = info.Serving;
                    m.Mode = info.Mode;
                    m.IsLeader = info.Mode == "leader";
                    m.Version = info.Version;
                    m.RaftIndex = info.Zxid;
                    m.RaftTerm = info.Zxid >> 32;
                    m.Zxid = info.ZxidHex;
                    m.ZnodeCount = info.ZnodeCount;
                    m.OutstandingRequests = info.Outstanding;
                    m.AvgLatencyMs = info.AvgLatency;
                    m.MaxLatencyMs = info.MaxLatency;
                    m.Problem = info.Serving ? null : "not serving: " + info.NotServingText;
                    foreach (var kv in info.Membership) membership[kv.Key] = kv.Value;
                }
                members.Add(m);
            }
            // The same server named twice (localhost:2181 and 127.0.0.1:2181) must count once.
            members = members.GroupBy(x => x.Id == null || x.Endpoint == null ? "?" + x.Name : x.Id).Select(g => g.First()).ToList();
            // Servers that do not answer keep the role the ensemble's configuration gives them.
            foreach (var m in members.Where(x => x.Mode == null && x.Id != null))
                if (membership.TryGetValue(int.Parse(m.Id, CultureInfo.InvariantCulture), out var role) && role == "observer") m.Mode = "observer";
            // Configured servers nobody named: unknown, so they count against quorum until proven otherwise.
            var named = new HashSet<string>(members.Where(m => m.Id != null).Select(m => m.Id));
            int silentWithoutId = members.Count(m => m.Id == null);
            foreach (var id in membership.Keys.OrderBy(x => x).Where(x => !named.Contains(x.ToString(CultureInfo.InvariantCulture))).Skip(silentWithoutId))
            {
                members.Add(new ZkMember
                {
                    Name = "server." + id.ToString(CultureInfo.InvariantCulture),
                    Id = id.ToString(CultureInfo.InvariantCulture),
                    Mode = membership[id] == "observer" ? "observer" : null,
                    Problem = "configured in the ensemble but not listed, so not asked",
                });
            }
            string name = cluster ?? ClusterName(list);
            var status = new QuorumStatus(Platform, name, members.ToArray());
            var leader = members.FirstOrDefault(m => m.IsLeader) ?? members.Where(m => m.Healthy).OrderByDescending(m => m.RaftIndex).FirstOrDefault();
            status.Revision = leader?.RaftIndex ?? 0;
            return status;
        }

        private static string ClusterName(IList<ZkTarget> targets)
        {
            var first = targets[0];
            if (first.Address != null && ZkClient.TryParseAddress(first.Address, out var host, out _)) return host;
            return first.AdminUri?.Host ?? "zookeeper";
        }

        /// <summary>The status the quorum guard must look at: voting members only (observers never count).</summary>
        public static QuorumStatus Voters(QuorumStatus status)
        {
            var voters = status.Members.Where(m => (m as ZkMember)?.Mode != "observer").ToArray();
            return new QuorumStatus(status.Platform, status.Cluster, voters) { Revision = status.Revision };
        }

        /// <summary>DC/OS's success condition: every server serving and exactly one leader (or one standalone server).</summary>
        public static string Problem(QuorumStatus status)
        {
            if (status.MemberCount == 1 && status.Members[0] is ZkMember only && only.Healthy && only.Mode == "standalone") return null;
            return ExhibitorStatusReader.Problem(status);
        }
    }
}
