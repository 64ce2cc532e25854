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
            var probes = QueryAll(given, tls, timeout, ct);
            IList<EtcdMemberInfo> members = null;
            foreach (var s in probes.Where(s => s.Value.Status != null))
            {
                try
                {
                    using (var c = new EtcdClient(new Uri(s.Key), tls, timeout)) members = c.MemberList(ct);
                    break;
                }
                catch (ClusterDrException ex) when (ex.ErrorId != ErrorIds.TlsConfiguration) { }
            }
            members = members ?? FromSpecs(expected);
            // Nothing answered and nothing was described: report each endpoint as a member of unknown name, with the reason.
            if (members.Count == 0)
                members = given.Select(u => new EtcdMemberInfo { Name = u.Authority, PeerUrls = new string[0], ClientUrls = new[] { u.ToString() } }).ToList();
            var byId = probes.Values.Where(v => v.Status != null).GroupBy(v => v.Status.MemberId).ToDictionary(g => g.Key, g => g.First().Status);
            if (probeAdvertisedUrls)
            {
                var extra = members.Where(m => !byId.ContainsKey(m.Id) || m.Id == 0)
                    .SelectMany(m => m.ClientUrls).Select(u => TryUri(u)).Where(u => u != null && !probes.ContainsKey(u.ToString())).Distinct().ToList();
                foreach (var s in QueryAll(extra, tls, timeout, ct))
                {
                    probes[s.Key] = s.Value;
                    if (s.Value.Status != null && !byId.ContainsKey(s.Value.Status.MemberId)) byId[s.Value.Status.MemberId] = s.Value.Status;
                }
            }
            // Members known only from specs (nothing answered) are matched by client URL.
            foreach (var m in members.Where(m => m.Id == 0))
            {
                var hit = m.ClientUrls.Select(u => TryUri(u)?.ToString()).Where(u => u != null && probes.TryGetValue(u, out var v) && v.Status != null).Select(u => probes[u].Status).FirstOrDefault();
                if (hit != null) { m.Id = hit.MemberId; byId[hit.MemberId] = hit; }
            }
            var status = Compose(members, byId);
            // Say why each silent member is silent: only "connection refused" on every URL proves it down.
            foreach (var cm in status.Members.Where(x => x.Endpoint == null))
            {
                var failures = cm.ClientUrls.Select(u => TryUri(u)?.ToString()).Where(u => u != null && probes.ContainsKey(u)).Select(u => probes[u]).ToList();
                if (failures.Count == 0) { cm.Problem = "not probed (its client URL is unknown)"; continue; }
                cm.ProvenDown = failures.All(f => f.Failure == ProbeFailure.Refused);
                cm.Problem = cm.ProvenDown ? "down (connection refused)" : "unreachable: " + string.Join("; ", failures.Select(f => f.Error).Distinct());
            }
            return status;
        }

        /// <summary>
        /// Whether any member that answers can serve a linearizable read (then the cluster has quorum,
        /// even if this machine cannot see enough members to count one).
        /// </summary>
        public static ClusterMember FindQuorumProof(QuorumStatus status, EtcdTlsOptions tls, CancellationToken ct)
        {
            // Members that refuse connections are down: when too few others are left for a quorum, no read can succeed,
            // and asking the survivors would only wait out their timeout (3 s of every disaster restore).
            if (status.Members.Count(m => !m.ProvenDown) < status.QuorumSize) return null;
            foreach (var m in status.Members.Where(x => x.Endpoint != null))
            {
                using (var c = new EtcdClient(new Uri(m.Endpoint), tls, TimeSpan.FromSeconds(3)))
                    if (c.ProvesQuorum(ct)) return m;
            }
            return null;
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
            var members = EtcdMemberInfo.ListFromJson(listJson["members"]);
            // Exits 1 when some member is unreachable, but still prints the others: parse what came.
            var st = shell.RunText(prefix + " endpoint status --cluster", null, ct);
            var byId = new Dictionary<ulong, EtcdEndpointStatus>();
            try
            {
                foreach (var e in JArray.Parse(st.StdOut.Trim().Length == 0 ? "[]" : st.StdOut))
                {
                    var status = EtcdEndpointStatus.FromJson(e["Status"], (string)e["Endpoint"]);
                    byId[status.MemberId] = status;
                }
            }
            catch (Exception ex) when (!(ex is ClusterDrException))
            {
                throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"etcdctl endpoint status on {shell.Node} printed no JSON: {st.StdErr.Trim()}", shell.Node);
            }
            return Compose(members, byId);
        }

        private static QuorumStatus Compose(IList<EtcdMemberInfo> members, IDictionary<ulong, EtcdEndpointStatus> byId)
        {
            var leaderIds = byId.Values.Where(s => s.Leader != 0 && (s.Errors == null || s.Errors.Length == 0)).Select(s => s.Leader).ToList();
            ulong leader = leaderIds.GroupBy(x => x).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();
            var result = members.Select(m =>
            {
                byId.TryGetValue(m.Id, out var s);
                var cm = new EtcdMember
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

        private sealed class Probe
        {
            public EtcdEndpointStatus Status;
            public ProbeFailure Failure;
            public string Error;
        }

        private static Dictionary<string, Probe> QueryAll(IList<Uri> endpoints, EtcdTlsOptions tls, TimeSpan? timeout, CancellationToken ct)
        {
            // Settings that cannot work (a missing CA file, an unreadable key) stop here instead of passing for "unreachable".
            using (new EtcdClient(endpoints.FirstOrDefault() ?? new Uri("http://127.0.0.1:2379"), tls)) { }
            var probes = Transport.ProbeThreads.Run(endpoints.Count, i =>
            {
                try
                {
                    using (var c = new EtcdClient(endpoints[i], tls, timeout ?? TimeSpan.FromSeconds(3))) return new Probe { Status = c.Status(ct) };
                }
                catch (ClusterDrException ex) when (ex.ErrorId != ErrorIds.TlsConfiguration)
                {
                    return new Probe { Failure = ex.InnerException != null ? EtcdClient.Classify(ex.InnerException) : ProbeFailure.Other, Error = ex.Message };
                }
            });
            var result = new Dictionary<string, Probe>();
            for (int i = 0; i < endpoints.Count; i++) result[endpoints[i].ToString()] = probes[i];
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
