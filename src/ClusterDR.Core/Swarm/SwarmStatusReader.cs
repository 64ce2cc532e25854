using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using ClusterDR.Transport;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Swarm
{
    /// <summary>
    /// Reads a swarm's quorum picture from one node with the docker CLI: docker info (the node's
    /// state, cluster, autolock, the managers it knows), docker node inspect (roles, reachability,
    /// leader) and the object counts. When the node list fails (no quorum), the managers come from
    /// docker info's RemoteManagers and, on request, the node probes their swarm ports.
    /// </summary>
    public static class SwarmStatusReader
    {
        public const string Platform = "swarm";
        private const string Mark = "@@clusterdr:";

        public static SwarmClusterStatus Read(IRemoteShell sh, SwarmNodeOptions o, CancellationToken ct, bool probeUnreachable = true)
        {
            var r = sh.RunText(Script(o), null, ct);
            var parts = Split(r.StdOut);
            if (!parts.TryGetValue("info", out var infoText) || infoText.Trim().Length == 0)
            {
                string err = (r.StdErr ?? "").Trim();
                if (r.ExitCode == 127 || err.IndexOf("not found", StringComparison.OrdinalIgnoreCase) >= 0 && err.IndexOf("docker", StringComparison.OrdinalIgnoreCase) >= 0)
                    throw new ClusterDrException(ErrorIds.RemoteCommandFailed, ErrorKind.ObjectNotFound, $"The docker CLI ({o.DockerPath}) is not on {sh.Node}: {err}", sh.Node);
                throw new ClusterDrException(ErrorIds.DockerUnavailable, ErrorKind.ResourceUnavailable,
                    $"Docker on {sh.Node} does not answer: {(err.Length > 0 ? err : "docker info printed nothing")}", sh.Node);
            }
            JObject swarm;
            try { swarm = JObject.Parse(infoText.Trim()); }
            catch (JsonException ex)
            {
                throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"docker info on {sh.Node} printed no usable JSON.", sh.Node, ex);
            }
            var s = new SwarmClusterStatus
            {
                Node = sh.Node,
                NodeId = (string)swarm["NodeID"] ?? "",
                NodeAddress = (string)swarm["NodeAddr"] ?? "",
                LocalNodeState = (string)swarm["LocalNodeState"] ?? "",
                IsManager = (bool?)swarm["ControlAvailable"] ?? false,
                Cluster = (string)swarm.SelectToken("Cluster.ID") ?? "",
                DockerVersion = parts.TryGetValue("version", out var v) ? v.Trim() : null,
            };
            var autolock = swarm.SelectToken("Cluster.Spec.EncryptionConfig.AutoLockManagers");
            if (s.Locked) s.Autolock = true;
            else if (s.IsManager && autolock != null && autolock.Type == JTokenType.Boolean) s.Autolock = (bool)autolock;
            string swarmError = (string)swarm["Error"];

            if (!s.IsManager)
            {
                s.Problem = s.Locked ? "the node is locked: docker swarm unlock (or -UnlockKey) unlocks it"
                    : s.LocalNodeState == "active" ? "the node is a worker: only managers list the swarm"
                    : $"the node is not in a swarm (state {s.LocalNodeState}{(string.IsNullOrEmpty(swarmError) ? "" : ": " + swarmError)})";
                s.Quorum = new QuorumStatus(Platform, s.Cluster, new ClusterMember[0]);
                return s;
            }

            if (parts.TryGetValue("nodes", out var nodesText) && nodesText.TrimStart().StartsWith("[", StringComparison.Ordinal))
            {
                var nodes = JArray.Parse(nodesText.Trim());
                var managers = new List<ClusterMember>();
                var workers = new List<ClusterMember>();
                foreach (var n in nodes)
                {
                    string role = (string)n.SelectToken("Spec.Role") ?? "";
                    string state = (string)n.SelectToken("Status.State") ?? "";
                    var m = new ClusterMember
                    {
                        Id = (string)n["ID"],
                        Name = (string)n.SelectToken("Description.Hostname") ?? (string)n["ID"],
                        Version = (string)n.SelectToken("Description.Engine.EngineVersion"),
                    };
                    if (role == "manager" && n["ManagerStatus"] != null && n["ManagerStatus"].Type == JTokenType.Object)
                    {
                        string reach = (string)n.SelectToken("ManagerStatus.Reachability") ?? "";
                        m.IsLeader = (bool?)n.SelectToken("ManagerStatus.Leader") ?? false;
                        m.Healthy = reach == "reachable";
                        string addr = (string)n.SelectToken("ManagerStatus.Addr");
                        m.PeerUrls = addr == null ? new string[0] : new[] { addr };
                        m.Endpoint = m.Healthy ? addr : null;
                        if (!m.Healthy) m.Problem = $"manager reachability {reach}, node {state}";
                        managers.Add(m);
                    }
                    else
                    {
                        m.Healthy = state == "ready";
                        string addr = (string)n.SelectToken("Status.Addr");
                        m.PeerUrls = addr == null ? new string[0] : new[] { addr };
                        if (!m.Healthy) m.Problem = "node " + state;
                        workers.Add(m);
                    }
                }
                // Hostnames can repeat (clones, namespaces): make names unique with the id's start.
                foreach (var g in managers.Concat(workers).GroupBy(m => m.Name).Where(g => g.Count() > 1))
                    foreach (var m in g) m.Name = m.Name + "-" + m.Id.Substring(0, Math.Min(6, m.Id.Length));
                s.Managers = managers.OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();
                s.Workers = workers.OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();
                if (parts.TryGetValue("counts", out var counts))
                {
                    var c = counts.Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(x => int.TryParse(x.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : -1).ToArray();
                    if (c.Length == 4) { s.Services = c[0]; s.Secrets = c[1]; s.Configs = c[2]; s.Networks = c[3]; }
                }
            }
            else
            {
                // No node list: the raft group cannot answer (no quorum). Its managers are what this node knows.
                string why = parts.TryGetValue("nodeserror", out var e) ? e.Trim() : "docker node ls printed nothing";
                s.Problem = "the swarm cannot list its nodes: " + why;
                var remote = swarm["RemoteManagers"] as JArray ?? new JArray();
                var members = remote.Select(rm => new ClusterMember
                {
                    Id = (string)rm["NodeID"],
                    Name = (string)rm["NodeID"],
                    PeerUrls = new[] { (string)rm["Addr"] },
                }).ToList();
                if (!members.Any(m => m.Id == s.NodeId)) members.Add(new ClusterMember { Id = s.NodeId, Name = s.NodeId, PeerUrls = new[] { s.NodeAddress } });
                foreach (var m in members)
                {
                    if (m.Id == s.NodeId) { m.Healthy = true; m.Endpoint = m.PeerUrls.FirstOrDefault(); continue; }
                    m.Problem = $"not reachable from {sh.Node} (" + why + ")";
                }
                s.Managers = members.OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();
            }
            if (probeUnreachable) Probe(sh, s.Managers.Where(m => !m.Healthy && m.Id != s.NodeId).ToList(), ct);
            s.Quorum = new QuorumStatus(Platform, s.Cluster.Length > 0 ? s.Cluster : "of node " + s.NodeId, s.Managers);
            return s;
        }

        /// <summary>
        /// Asks the node to connect to each manager's swarm port: "connection refused" proves nothing
        /// listens there (that manager is down); a timeout proves nothing (it may serve a partition).
        /// </summary>
        private static void Probe(IRemoteShell sh, IList<ClusterMember> members, CancellationToken ct)
        {
            var targets = members.Where(m => m.PeerUrls.Length > 0 && m.PeerUrls[0] != null && m.PeerUrls[0].LastIndexOf(':') > 0).ToList();
            if (targets.Count == 0) return;
            string list = string.Join(" ", targets.Select(m => Sh.Quote(m.PeerUrls[0])));
            string script = "command -v bash >/dev/null 2>&1 || { echo nobash; exit 0; }; for a in " + list + "; do h=${a%:*}; p=${a##*:}; " +
                "if out=$(timeout 3 bash -c 'exec 3<>\"/dev/tcp/$1/$2\"' probe \"$h\" \"$p\" 2>&1); then echo \"$a open\"; " +
                "else case \"$out\" in *refused*) echo \"$a refused\";; *) echo \"$a unknown\";; esac; fi; done";
            CommandResult r;
            try { r = sh.RunText(script, null, ct); }
            catch (ClusterDrException) { return; }
            foreach (var line in r.StdOut.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
            {
                int sp = line.LastIndexOf(' ');
                if (sp < 0) continue;
                string addr = line.Substring(0, sp), verdict = line.Substring(sp + 1);
                foreach (var m in targets.Where(t => t.PeerUrls[0] == addr))
                {
                    if (verdict == "refused") { m.ProvenDown = true; m.Problem += $"; nothing listens on {addr} (connection refused from {sh.Node})"; }
                    else if (verdict == "open") m.Problem += $"; its swarm port {addr} accepts connections: it may be serving";
                    else m.Problem += $"; {addr} cannot be reached from {sh.Node} (no answer)";
                }
            }
        }

        private static string Script(SwarmNodeOptions o)
        {
            string d = Sh.Quote(o.DockerPath);
            return o.Prelude +
                $"echo '{Mark}version'; {d} version --format '{{{{.Server.Version}}}}' 2>/dev/null; " +
                $"info=$({d} info --format '{{{{json .Swarm}}}}') || exit 3; echo '{Mark}info'; printf '%s\\n' \"$info\"; " +
                "case \"$info\" in *'\"ControlAvailable\":true'*) ;; *) exit 0;; esac; " +
                $"if ids=$(timeout 20 {d} node ls -q 2>&1); then echo '{Mark}nodes'; {d} node inspect $ids || exit 4; " +
                $"echo '{Mark}counts'; {d} service ls -q | wc -l; {d} secret ls -q | wc -l; {d} config ls -q | wc -l; {d} network ls -q --filter scope=swarm | wc -l; " +
                $"else echo '{Mark}nodeserror'; printf '%s\\n' \"$ids\" | tail -n 3; fi";
        }

        private static Dictionary<string, string> Split(string stdout)
        {
            var parts = new Dictionary<string, string>();
            string current = null;
            var sb = new System.Text.StringBuilder();
            foreach (var line in (stdout ?? "").Split('\n'))
            {
                if (line.StartsWith(Mark, StringComparison.Ordinal))
                {
                    if (current != null) parts[current] = sb.ToString();
                    current = line.Substring(Mark.Length).Trim();
                    sb.Clear();
                    continue;
                }
                if (current != null) sb.Append(line).Append('\n');
            }
            if (current != null) parts[current] = sb.ToString();
            return parts;
        }
    }
}
