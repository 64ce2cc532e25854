using System;
using System.Linq;
using System.Net.Http;
using System.Threading;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.ZooKeeper
{
    /// <summary>
    /// Reads Exhibitor's ensemble view (GET /exhibitor/v1/cluster/status, as DC/OS masters expose it
    /// behind Admin Router): one entry per ZooKeeper server with code 3 = serving, plus the leader flag.
    /// </summary>
    public static class ExhibitorStatusReader
    {
        public const string Platform = "zookeeper";
        public const string StatusPath = "exhibitor/v1/cluster/status";

        /// <summary>
        /// <paramref name="uri"/> is the Exhibitor base (http://master:8181/), a DC/OS cluster URL
        /// (https://dcos.example.com/ → /exhibitor/exhibitor/v1/...), or the full status URL.
        /// <paramref name="acsToken"/> is sent as "Authorization: token=…" when given.
        /// </summary>
        public static QuorumStatus Read(Uri uri, string acsToken, CancellationToken ct, HttpMessageHandler handler = null, TimeSpan? timeout = null)
        {
            var target = StatusUri(uri);
            using (var http = HttpClients.Client(timeout ?? TimeSpan.FromSeconds(10), handler, disposeHandler: false))
            using (var request = new HttpRequestMessage(HttpMethod.Get, target))
            {
                AcsToken.Authorize(request, acsToken);
                using (var response = HttpClients.Send(http, request, HttpCompletionOption.ResponseContentRead, ct, ex => HttpErrors.Unreachable(Service, target, ex)))
                {
                    string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                    if (!response.IsSuccessStatusCode)
                        throw HttpErrors.Status(Service, target, (int)response.StatusCode,
                            unauthorized: "a valid ACS token is required", forbidden: "the token lacks permission");
                    return Parse(body, target);
                }
            }
        }

        private const string Service = "Exhibitor";

        internal static Uri StatusUri(Uri uri)
        {
            if (uri == null || !uri.IsAbsoluteUri) throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidArgument, $"'{uri}' is not an absolute Exhibitor or DC/OS URL.", uri);
            string path = uri.AbsolutePath.TrimEnd('/');
            if (path.EndsWith("/" + StatusPath, StringComparison.Ordinal)) return uri;
            // A bare DC/OS cluster URL reaches Exhibitor through Admin Router's /exhibitor/ prefix.
            var b = new UriBuilder(uri) { Path = (path.Length == 0 && uri.Scheme == "https" ? "/exhibitor" : path) + "/" + StatusPath };
            return b.Uri;
        }

        internal static QuorumStatus Parse(string json, Uri source)
        {
            JArray servers;
            try { servers = JArray.Parse(json); }
            catch (Exception ex) { throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"Exhibitor at {source} did not answer with its status list.", source.ToString(), ex); }
            var members = servers.Select(s =>
            {
                int code = (int?)s["code"] ?? 0;
                return new ZkMember
                {
                    Name = (string)s["hostname"],
                    Healthy = code == 3,
                    IsLeader = (bool?)s["isLeader"] ?? false,
                    Problem = code == 3 ? null : ((string)s["description"] ?? "code " + code),
                    Endpoint = source.ToString(),
                };
            }).OrderBy(m => m.Name, StringComparer.Ordinal).ToArray();
            return new QuorumStatus(Platform, source.Host, members);
        }

        /// <summary>DC/OS's condition for backup and restore: every server serving and exactly one leader.</summary>
        public static string Problem(QuorumStatus status)
        {
            if (status.MemberCount == 0) return "Exhibitor lists no ZooKeeper server";
            var notServing = status.Members.Where(m => !m.Healthy).ToList();
            if (notServing.Count > 0) return "not serving: " + string.Join(", ", notServing.Select(m => $"{m.Name} ({m.Problem})"));
            int leaders = status.Members.Count(m => m.IsLeader);
            return leaders == 1 ? null : $"{leaders} leaders instead of one";
        }
    }
}
