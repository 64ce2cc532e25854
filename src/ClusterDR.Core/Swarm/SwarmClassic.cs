using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net.Http;
using System.Threading;
using ClusterDR.Safety;
using ClusterDR.Transport;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Swarm
{
    public sealed class SwarmClassicFailoverRequest
    {
        public IList<string> Endpoints { get; set; } = new List<string>();
        /// <summary>The node the primary runs on (null: the primary endpoint's host over SSH).</summary>
        public Func<string, IRemoteShell> ShellFor { get; set; }
        public string StopCommand { get; set; }
        public string StartCommand { get; set; }
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);
        public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);
    }

    /// <summary>Classic Swarm HA managers: read each one's Docker-API /info (SystemStatus rows), and drill a failover.</summary>
    public static class SwarmClassic
    {
        public static SwarmClassicManager[] Read(IEnumerable<string> endpoints, TimeSpan timeout, CancellationToken ct)
        {
            using (var http = HttpClients.Client(timeout))
                return endpoints.Select(e => ReadOne(http, e, ct)).ToArray();
        }

        public static Uri InfoUri(string endpoint)
        {
            string e = endpoint.Trim();
            if (e.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase)) e = "http://" + e.Substring(6);
            if (!e.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !e.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) e = "http://" + e;
            if (!Uri.TryCreate(e, UriKind.Absolute, out var u))
                throw new ClusterDrException(ErrorIds.InvalidNode, ErrorKind.InvalidArgument, $"'{endpoint}' is not a host:port or URL of a Swarm manager.", endpoint);
            return new Uri(u, "/info");
        }

        private static SwarmClassicManager ReadOne(HttpClient http, string endpoint, CancellationToken ct)
        {
            var m = new SwarmClassicManager { Endpoint = endpoint };
            var uri = InfoUri(endpoint);
            try
            {
                Transport.DebugLog.Http("GET", uri);
                using (var resp = http.GetAsync(uri, ct).GetAwaiter().GetResult())
                {
                    string body = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                    if (!resp.IsSuccessStatusCode) { m.Problem = $"HTTP {(int)resp.StatusCode} from {uri}"; return m; }
                    Parse(JObject.Parse(body), m);
                    m.Reachable = true;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || ex is OperationCanceledException && !ct.IsCancellationRequested || ex is JsonException)
            {
                m.Problem = ex is JsonException ? $"{uri} did not answer with JSON" : $"{uri} does not answer: {Inner(ex)}";
            }
            return m;
        }

        private static string Inner(Exception ex)
        {
            while (ex.InnerException != null) ex = ex.InnerException;
            return ex is OperationCanceledException ? "timed out" : ex.Message;
        }

        /// <summary>Classic Swarm's /info: SystemStatus is a list of [name, value] rows (Role, Primary, Strategy, Filters, Nodes, then one block per node).</summary>
        internal static void Parse(JObject info, SwarmClassicManager m)
        {
            m.ServerVersion = (string)info["ServerVersion"];
            if (!(info["SystemStatus"] is JArray rows)) { m.Problem = "its /info has no SystemStatus: not a classic Swarm manager"; return; }
            foreach (var row in rows.OfType<JArray>().Where(r => r.Count >= 2))
            {
                string key = ((string)row[0] ?? "").Trim(), value = ((string)row[1] ?? "").Trim();
                switch (key.ToLowerInvariant())
                {
                    case "role": m.Role = value.Length == 0 ? null : char.ToUpperInvariant(value[0]) + value.Substring(1).ToLowerInvariant(); break;
                    case "primary": m.Primary = value; break;
                    case "strategy": m.Strategy = value; break;
                    case "filters": m.Filters = value; break;
                    case "nodes": if (int.TryParse(value, out int n)) m.Nodes = n; break;
                }
            }
            if (m.IsPrimary && m.Primary == null) m.Primary = m.Endpoint;
        }

        /// <summary>
        /// Stops the primary, waits for a replica to report itself primary, starts the old primary again
        /// and waits until it answers. Refuses when no replica answers (nobody could take over).
        /// </summary>
        public static SwarmClassicFailoverResult TestFailover(SwarmClassicFailoverRequest req, IOperationContext ctx)
        {
            using var debug = Transport.DebugLog.To(ctx);
            var ct = ctx.Cancellation;
            var managers = Read(req.Endpoints, req.RequestTimeout, ct);
            var primaries = managers.Where(x => x.Reachable && x.IsPrimary).ToList();
            if (primaries.Count != 1)
                throw new ClusterDrException(ErrorIds.NoFailoverReplica, ErrorKind.InvalidOperation,
                    primaries.Count == 0 ? $"No manager of {string.Join(", ", req.Endpoints)} reports itself Primary: there is nothing to fail over."
                                         : $"{primaries.Count} managers report themselves Primary ({string.Join(", ", primaries.Select(p => p.Endpoint))}): fix that split first.");
            var primary = primaries[0];
            var replicas = managers.Where(x => x.Reachable && string.Equals(x.Role, "Replica", StringComparison.OrdinalIgnoreCase)).ToList();
            if (replicas.Count == 0)
                throw new ClusterDrException(ErrorIds.NoFailoverReplica, ErrorKind.InvalidOperation,
                    $"Stopping primary {primary.Endpoint} would leave no manager: no replica answers ({string.Join("; ", managers.Where(x => x != primary).Select(x => x.Endpoint + ": " + (x.Problem ?? x.Role)))}). Nothing was stopped.", primary.Endpoint);
            ctx.WriteVerbose($"Failover guard: primary {primary.Endpoint}, {replicas.Count} replica(s) answer: {string.Join(", ", replicas.Select(r => r.Endpoint))}.");

            var result = new SwarmClassicFailoverResult { OldPrimary = primary.Endpoint };
            var others = managers.Where(x => x != primary).Select(x => x.Endpoint).ToList();
            IRemoteShell sh = null;
            try
            {
                var plan = new Plan(ctx, "Test-SwarmClassicFailover", ErrorIds.FailoverFailed);
                var clock = new Stopwatch();
                plan.Add(primary.Endpoint, "Stop the primary Swarm manager", () =>
                {
                    sh = req.ShellFor(primary.Endpoint);
                    clock.Start();
                    sh.RunChecked("Stop the Swarm manager", req.StopCommand, ct);
                }, undo: () => sh.RunChecked("Start the Swarm manager", req.StartCommand, ct), state: "stopped", undoneState: "started again");
                plan.Check(string.Join(", ", others), "Wait until a replica reports itself primary", () =>
                {
                    var winner = WaitFor(() => Read(others, req.RequestTimeout, ct).FirstOrDefault(x => x.Reachable && x.IsPrimary), req.Timeout, ct,
                        "no replica reported itself primary");
                    result.TakeoverTime = clock.Elapsed;
                    result.NewPrimary = winner.Endpoint;
                });
                plan.Add(primary.Endpoint, "Start the old primary again", () => sh.RunChecked("Start the Swarm manager", req.StartCommand, ct), state: "started again");
                plan.Check(primary.Endpoint, "Wait until the old primary answers", () =>
                {
                    var back = WaitFor(() => Read(new[] { primary.Endpoint }, req.RequestTimeout, ct).FirstOrDefault(x => x.Reachable && x.Role != null), req.Timeout, ct,
                        "the old primary did not answer after its start command");
                    result.OldPrimaryRoleAfter = back.Role;
                });
                if (!plan.Execute()) return null;
                result.Managers = Read(req.Endpoints, req.RequestTimeout, ct);
                return result;
            }
            finally { sh?.Dispose(); }
        }

        private static T WaitFor<T>(Func<T> probe, TimeSpan timeout, CancellationToken ct, string what) where T : class
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
                var v = probe();
                if (v != null) return v;
                Thread.Sleep(100);
            }
            throw new ClusterDrException(ErrorIds.WaitTimedOut, ErrorKind.OperationTimeout, $"Within {timeout.TotalSeconds:0} s {what}.");
        }
    }
}
