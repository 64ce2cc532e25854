using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// Builds an etcd cluster's QuorumStatus: the member list from any member that answers, then
    /// each member's own status (from the given endpoints, else its advertised client URLs). A
    /// member is healthy when it answers, knows a leader and reports no errors (alarms, no leader).
    /// </summary>
    public static class EtcdStatusReader
    {
        public const string Platform = "etcd";

        /// <summary>Reads status over the HTTP gateway from this machine.</summary>
        public static QuorumStatus Read(IEnumerable<Uri> endpoints, EtcdTlsOptions tls, CancellationToken ct,
            IEnumerable<EtcdMemberSpec> expected = null, bool probeAdvertisedUrls = true, TimeSpan? timeout = null)
        {
            var given = endpoints.Distinct().ToList();
            var statuses = QueryAll(given, tls, timeout, ct);
            IList<EtcdMemberInfo> members = null;
            foreach (var s in statuses.Where(s => s.Value != null))
            {
                try
                {
                    using (var c = new EtcdClient(new Uri(s.Key), tls, timeout)) members = c.MemberList(ct);
                    break;
                }
                catch (ClusterDrException) { }
            }
            members = members ?? FromSpecs(expected);
            var byId = statuses.Values.Where(v => v != null).GroupBy(v => v.MemberId).ToDictionary(g => g.Key, g => g.First());
            if (probeAdvertisedUrls)
            {
                var extra = members.Where(m => !byId.ContainsKey(m.Id) || m.Id == 0)
                    .SelectMany(m => m.ClientUrls).Select(u => TryUri(u)).Where(u => u != null && !statuses.ContainsKey(u.ToString())).Distinct().ToList();
                foreach (var s in QueryAll(extra, tls, timeout, ct))
                {
                    statuses[s.Key] = s.Value;
                    if (s.Value != null && !byId.ContainsKey(s.Value.MemberId)) byId[s.Value.MemberId] = s.Value;
                }
            }
            // Members known only from specs (nothing answered) are matched by client URL.
            foreach (var m in members.Where(m => m.Id == 0))
            {
                var hit = m.ClientUrls.Select(u => TryUri(u)?.ToString()).Where(u => u != null && statuses.TryGetValue(u, out var v) && v != null).Select(u => statuses[u]).FirstOrDefault();
                if (hit != null) { m.Id = hit.MemberId; byId[hit.MemberId] = hit; }
            }
            return Compose(members, byId, statuses.Where(s => s.Value == null).Select(s => s.Key));
        }

        /// <summary>Reads status by running etcdctl on a node (for etcd bound to that node's loopback).</summary>
        public static QuorumStatus ReadOnNode(IRemoteShell shell, string endpoint, EtcdTlsOptions tls, string etcdctl, CancellationToken ct)
        {
            string flags = Sh.Join(new[] { "--endpoints=" + endpoint, "--command-timeout=3s", "-w", "json" }.Concat(tls?.EtcdctlFlags() ?? Enumerable.Empty<string>()));
            string prefix = "ETCDCTL_API=3 " + Sh.Quote(etcdctl) + " " + flags;
            var list = shell.RunChecked("etcdctl member list", prefix + " member list", ct);
            JObject listJson;
            try { listJson = JObject.Parse(list.StdOut); }
            catch (Exception ex) { throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"etcdctl member list on {shell.Node} printed no JSON: {ex.Message}", shell.Node); }
            var members = ((listJson["members"] as JArray) ?? new JArray()).Select(m => new EtcdMemberInfo
            {
                Id = EtcdClient.U64(m["ID"]),
                Name = (string)m["name"] ?? "",
                PeerUrls = (m["peerURLs"] as JArray)?.Select(u => (string)u).ToArray() ?? new string[0],
                ClientUrls = (m["clientURLs"] as JArray)?.Select(u => (string)u).ToArray() ?? new string[0],
            }).ToList();
            // Exits 1 when some member is unreachable, but still prints the others: parse what came.
            var st = shell.RunText(prefix + " endpoint status --cluster", null, ct);
            var byId = new Dictionary<ulong, EtcdEndpointStatus>();
            try
            {
                foreach (var e in JArray.Parse(st.StdOut.Trim().Length == 0 ? "[]" : st.StdOut))
                {
                    var s = e["Status"];
                    var status = new EtcdEndpointStatus
                    {
                        Endpoint = (string)e["Endpoint"],
                        ClusterId = EtcdClient.U64(s?["header"]?["cluster_id"]),
                        MemberId = EtcdClient.U64(s?["header"]?["member_id"]),
                        Revision = (long)EtcdClient.U64(s?["header"]?["revision"]),
                        Leader = EtcdClient.U64(s?["leader"]),
                        RaftIndex = (long)EtcdClient.U64(s?["raftIndex"]),
                        RaftTerm = (long)EtcdClient.U64(s?["raftTerm"]),
                        DbSize = (long)EtcdClient.U64(s?["dbSize"]),
                        Version = (string)s?["version"],
                        Errors = (s?["errors"] as JArray)?.Select(x => (string)x).ToArray() ?? new string[0],
                    };
                    byId[status.MemberId] = status;
                }
            }
            catch (Exception ex) when (!(ex is ClusterDrException))
            {
                throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"etcdctl endpoint status on {shell.Node} printed no JSON: {st.StdErr.Trim()}", shell.Node);
            }
            return Compose(members, byId, new string[0]);
        }

        private static QuorumStatus Compose(IList<EtcdMemberInfo> members, IDictionary<ulong, EtcdEndpointStatus> byId, IEnumerable<string> unreachable)
        {
            var leaderIds = byId.Values.Where(s => s.Leader != 0 && (s.Errors == null || s.Errors.Length == 0)).Select(s => s.Leader).ToList();
            ulong leader = leaderIds.GroupBy(x => x).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
            var result = members.Select(m =>
            {
                byId.TryGetValue(m.Id, out var s);
                var cm = new ClusterMember
                {
                    Name = m.Name,
                    Id = m.Id == 0 ? null : m.IdHex,
                    PeerUrls = m.PeerUrls,
                    ClientUrls = m.ClientUrls,
                };
                if (s == null || m.Id == 0)
                {
                    cm.Healthy = false;
                    cm.Problem = "unreachable";
                    if (string.IsNullOrEmpty(cm.Name)) cm.Name = "(unstarted " + string.Join(",", m.PeerUrls) + ")";
                    return cm;
                }
                cm.Endpoint = s.Endpoint;
                cm.RaftIndex = s.RaftIndex;
                cm.RaftTerm = s.RaftTerm;
                cm.DbSize = s.DbSize;
                cm.Version = s.Version;
                cm.IsLeader = leader != 0 && m.Id == leader;
                if (s.Errors != null && s.Errors.Length > 0) cm.Problem = string.Join("; ", s.Errors);
                else if (s.Leader == 0) cm.Problem = "no leader";
                cm.Healthy = cm.Problem == null;
                return cm;
            }).OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();
            var any = byId.Values.FirstOrDefault();
            string cluster = any != null ? any.ClusterId.ToString("x") : "unknown";
            return new QuorumStatus(Platform, cluster, result) { Revision = byId.Values.Select(s => s.Revision).DefaultIfEmpty(0).Max() };
        }

        private static Dictionary<string, EtcdEndpointStatus> QueryAll(IList<Uri> endpoints, EtcdTlsOptions tls, TimeSpan? timeout, CancellationToken ct)
        {
            var tasks = endpoints.Select(e => Task.Run(() =>
            {
                try { using (var c = new EtcdClient(e, tls, timeout ?? TimeSpan.FromSeconds(3))) return c.Status(ct); }
                catch (ClusterDrException) { return null; }
            })).ToArray();
            Task.WaitAll(tasks);
            var result = new Dictionary<string, EtcdEndpointStatus>();
            for (int i = 0; i < endpoints.Count; i++) result[endpoints[i].ToString()] = tasks[i].Result;
            return result;
        }

        private static IList<EtcdMemberInfo> FromSpecs(IEnumerable<EtcdMemberSpec> specs) =>
            (specs ?? Enumerable.Empty<EtcdMemberSpec>()).Select(s => new EtcdMemberInfo
            {
                Id = 0,
                Name = s.Name,
                PeerUrls = new[] { s.PeerUrl },
                ClientUrls = new[] { s.ClientUrl },
            }).ToList();

        private static Uri TryUri(string s) => Uri.TryCreate(s, UriKind.Absolute, out var u) ? u : null;
    }
}
