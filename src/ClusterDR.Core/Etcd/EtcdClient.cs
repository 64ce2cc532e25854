using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// etcd's v3 JSON gateway on a client URL (POST /v3/...): status, members, kv, and the snapshot
    /// as a fallback; the snapshot itself comes over gRPC where the runtime can (<see cref="EtcdGrpcSnapshot"/>).
    /// Both decode to the exact bytes `etcdctl snapshot save` writes.
    /// </summary>
    public sealed class EtcdClient : IDisposable
    {
        private readonly HttpClient _http;
        private readonly HttpClient _stream;
        private readonly EtcdTlsOptions _tls;

        public EtcdClient(Uri endpoint, EtcdTlsOptions tls = null, TimeSpan? timeout = null)
        {
            if (endpoint == null || !endpoint.IsAbsoluteUri || (endpoint.Scheme != "http" && endpoint.Scheme != "https"))
                throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidArgument, $"'{endpoint}' is not an etcd client URL (http:// or https://).", endpoint);
            Endpoint = endpoint;
            tls = tls ?? new EtcdTlsOptions();
            _tls = tls;
            _http = HttpClients.Client(timeout ?? TimeSpan.FromSeconds(5), tls.CreateHandler(), endpoint);
            // The snapshot streams for as long as it takes.
            _stream = HttpClients.Client(System.Threading.Timeout.InfiniteTimeSpan, tls.CreateHandler(), endpoint);
        }

        public Uri Endpoint { get; }

        public EtcdEndpointStatus Status(CancellationToken ct)
        {
            return EtcdEndpointStatus.FromJson(Post("/v3/maintenance/status", "{}", ct), Endpoint.ToString());
        }

        public IList<EtcdMemberInfo> MemberList(CancellationToken ct)
        {
            return EtcdMemberInfo.ListFromJson(Post("/v3/cluster/member/list", "{}", ct)["members"]);
        }

        public IList<EtcdMemberInfo> MemberAdd(IEnumerable<string> peerUrls, CancellationToken ct)
        {
            var body = new JObject { ["peerURLs"] = new JArray(peerUrls.ToArray()) };
            return EtcdMemberInfo.ListFromJson(Post("/v3/cluster/member/add", body.ToString(), ct)["members"]);
        }

        public void MemberRemove(ulong id, CancellationToken ct)
        {
            Post("/v3/cluster/member/remove", new JObject { ["ID"] = id.ToString() }.ToString(), ct);
        }

        public void Put(string key, string value, CancellationToken ct)
        {
            Post("/v3/kv/put", new JObject { ["key"] = B64(key), ["value"] = B64(value) }.ToString(), ct);
        }

        /// <summary>All keys with <paramref name="prefix"/> (empty: every key) and their values, plus the store revision.</summary>
        public IDictionary<string, string> Range(string prefix, CancellationToken ct, out long revision)
        {
            var req = new JObject { ["key"] = B64(prefix.Length == 0 ? "\0" : prefix), ["range_end"] = B64(RangeEnd(prefix)) };
            var j = Post("/v3/kv/range", req.ToString(), ct);
            revision = (long)U64(j["header"]?["revision"]);
            var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in (j["kvs"] as JArray) ?? new JArray())
                result[Unb64((string)kv["key"])] = Unb64((string)kv["value"] ?? "");
            return result;
        }

        /// <summary>A raw /v3/kv/range request (the JSON <see cref="EtcdKeyFacts"/> builds); the answer as etcd gives it.</summary>
        public JObject RangeRaw(JObject request, CancellationToken ct) => Post("/v3/kv/range", request.ToString(), ct);

        /// <summary>How <see cref="Snapshot(Stream, Action{long}, Action{long}, CancellationToken)"/> fetches: gRPC where the runtime can, else the JSON gateway.</summary>
        public EtcdSnapshotProtocol SnapshotProtocol { get; set; } = EtcdSnapshotProtocol.Auto;

        /// <summary>What the last snapshot used, and why gRPC was passed over when it was.</summary>
        public string LastSnapshotTransport { get; private set; }

        public long Snapshot(Stream sink, Action<long> progress, CancellationToken ct) => Snapshot(sink, null, progress, ct);

        /// <summary>
        /// Streams the member's backend snapshot into <paramref name="sink"/>; returns bytes written.
        /// The bytes are exactly what etcdctl snapshot save writes (db + 32-byte SHA-256 trailer).
        /// <paramref name="onSize"/> hears that exact size before the first byte is written.
        /// </summary>
        public long Snapshot(Stream sink, Action<long> onSize, Action<long> progress, CancellationToken ct)
        {
            string why = "the JSON gateway was asked for";
            if (SnapshotProtocol != EtcdSnapshotProtocol.Gateway)
            {
                long written;
                string transport;
                try { why = EtcdGrpcSnapshot.TryFetch(_stream, Endpoint, _tls, SnapshotProtocol == EtcdSnapshotProtocol.GrpcHttpClient, sink, onSize, progress, ct, out written, out transport); }
                catch (SinkFailure f) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(f.InnerException).Throw(); throw; }
                if (why == null)
                {
                    LastSnapshotTransport = transport;
                    return written;
                }
                if (SnapshotProtocol == EtcdSnapshotProtocol.Grpc || SnapshotProtocol == EtcdSnapshotProtocol.GrpcHttpClient)
                    throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidOperation, $"etcd at {Endpoint}: gRPC snapshot unavailable: {why}", Endpoint);
            }
            LastSnapshotTransport = "JSON gateway /v3/maintenance/snapshot (" + why + ")";
            return GatewaySnapshot(sink, onSize, progress, ct);
        }

        private long GatewaySnapshot(Stream sink, Action<long> onSize, Action<long> progress, CancellationToken ct)
        {
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/v3/maintenance/snapshot") { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
            using (var response = Send(_stream, request, HttpCompletionOption.ResponseHeadersRead, ct))
            using (var body = response.Content.ReadAsStreamAsync().GetAwaiter().GetResult())
            using (var reader = new StreamReader(body, Encoding.UTF8, false, 1 << 16))
            {
                long total = 0;
                string line;
                while ((line = ReadLine(reader, ct)) != null)
                {
                    if (line.Length == 0) continue;
                    var blob = ExtractBlob(line);
                    if (blob == null)
                    {
                        string message = line;
                        try { message = (string)JObject.Parse(line)["error"]?["message"] ?? line; } catch { }
                        throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidOperation, $"etcd at {Endpoint} aborted the snapshot: {Trim(message)}", Endpoint);
                    }
                    if (blob.Length == 0) continue;
                    if (onSize != null) { onSize(ExtractRemaining(line) + blob.Length + 32); onSize = null; }
                    sink.Write(blob, 0, blob.Length);
                    total += blob.Length;
                    progress?.Invoke(total);
                }
                return total;
            }
        }

        /// <summary>remaining_bytes of one gateway line (a uint64 the gateway writes as a JSON string); 0 when absent.</summary>
        internal static long ExtractRemaining(string line)
        {
            const string key = "\"remaining_bytes\":";
            int at = line.IndexOf(key, StringComparison.Ordinal);
            if (at < 0) return 0;
            at += key.Length;
            while (at < line.Length && (line[at] == '"' || line[at] == ' ')) at++;
            long v = 0;
            while (at < line.Length && line[at] >= '0' && line[at] <= '9') v = v * 10 + (line[at++] - '0');
            return v;
        }

        private string ReadLine(StreamReader reader, CancellationToken ct)
        {
            Safety.CancellationScope.Effective(ct).ThrowIfCancellationRequested();
            try { return reader.ReadLine(); }
            catch (IOException ex)
            {
                throw new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError, $"The snapshot stream from {Endpoint} broke: {ex.Message}", Endpoint, ex);
            }
        }

        /// <summary>Pulls the base64 blob out of one {"result":{"blob":"…"}} line without building a JSON tree.</summary>
        internal static byte[] ExtractBlob(string line)
        {
            const string key = "\"blob\":\"";
            int start = line.IndexOf(key, StringComparison.Ordinal);
            if (start < 0) return line.IndexOf("\"result\"", StringComparison.Ordinal) >= 0 && line.IndexOf("\"error\"", StringComparison.Ordinal) < 0 ? new byte[0] : null;
            start += key.Length;
            int end = line.IndexOf('"', start);
            if (end < 0) return null;
            string b64 = line.Substring(start, end - start);
            if (b64.IndexOf('\\') >= 0) b64 = b64.Replace("\\/", "/").Replace("\\u002b", "+").Replace("\\u003d", "=");
            return Convert.FromBase64String(b64);
        }

        private JObject Post(string path, string json, CancellationToken ct)
        {
            using (var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") })
            using (var response = Send(_http, request, HttpCompletionOption.ResponseContentRead, ct))
            {
                string text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                try { return JObject.Parse(text); }
                catch (Exception ex)
                {
                    throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"{Endpoint}{path} answered with something other than JSON: {Trim(text)}", Endpoint, ex);
                }
            }
        }

        private HttpResponseMessage Send(HttpClient client, HttpRequestMessage request, HttpCompletionOption option, CancellationToken ct)
        {
            var response = HttpClients.Send(client, request, option, ct, ex =>
            {
                var refused = _tls.ClientCertificateRefused(Endpoint, ex);
                if (refused != null) return refused;
                var failure = Classify(ex);
                string why = failure == ProbeFailure.Timeout ? "no answer in time" : (ex.InnerException?.Message ?? ex.Message);
                return failure == ProbeFailure.Tls
                    ? HttpErrors.Unreachable(Service, Endpoint, ex, "TLS handshake failed: " + why, ErrorKind.SecurityError)
                    : HttpErrors.Unreachable(Service, Endpoint, ex, why);
            });
            if (!response.IsSuccessStatusCode)
            {
                string text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                response.Dispose();
                string message = text;
                try { var j = JObject.Parse(text); message = (string)j["message"] ?? (string)j["error"] ?? text; } catch { }
                // etcd's auth statuses stay an EndpointError (of kind PermissionDenied): it names no credential to give.
                throw HttpErrors.Status(Service, Endpoint, (int)response.StatusCode, Trim(message), reason: response.ReasonPhrase ?? "");
            }
            return response;
        }

        private const string Service = "etcd";

        /// <summary>
        /// A linearizable read needs the leader to confirm its leadership with a quorum: when it
        /// succeeds through this member, the member is part of a quorate cluster, whatever this
        /// machine can or cannot see of the other members.
        /// </summary>
        public bool ProvesQuorum(CancellationToken ct)
        {
            try
            {
                // One key, not a range: a range's count walks every key (etcd 3.4 counts even with count_only), a lookup does not.
                Post("/v3/kv/range", new JObject { ["key"] = B64("\0"), ["keys_only"] = true, ["count_only"] = true }.ToString(), ct);
                return true;
            }
            catch (ClusterDrException) { return false; }
        }

        /// <summary>Why a request failed: refused means nothing listens there (the member is down).</summary>
        public static ProbeFailure Classify(Exception ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
            {
                if (e is System.Net.Sockets.SocketException se && se.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused) return ProbeFailure.Refused;
                if (e is System.Security.Authentication.AuthenticationException) return ProbeFailure.Tls;
                if (EtcdTlsOptions.ClientCertificateAlert(e) != null) return ProbeFailure.Tls;
                if (e is OperationCanceledException || e is TimeoutException) return ProbeFailure.Timeout;
            }
            return ProbeFailure.Other;
        }

        /// <summary>etcd writes uint64 as JSON strings (gateway) or numbers (etcdctl -w json): read both without losing bits.</summary>
        internal static ulong U64(JToken t)
        {
            if (t == null || t.Type == JTokenType.Null) return 0;
            string s = t.Type == JTokenType.String ? (string)t : t.ToString(Newtonsoft.Json.Formatting.None);
            return ulong.TryParse(s, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0;
        }

        private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        private static string Unb64(string s) => Encoding.UTF8.GetString(Convert.FromBase64String(s ?? ""));

        private static string RangeEnd(string prefix)
        {
            if (prefix.Length == 0) return "\0";
            var bytes = Encoding.UTF8.GetBytes(prefix);
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                if (bytes[i] < 0xff) { bytes[i]++; return Encoding.UTF8.GetString(bytes, 0, i + 1); }
            }
            return "\0";
        }

        private static string Trim(string s) => s == null ? "" : (s.Length > 500 ? s.Substring(0, 500) + "…" : s).Trim();

        public void Dispose()
        {
            _http.Dispose();
            _stream.Dispose();
        }
    }

    public enum ProbeFailure { None, Refused, Timeout, Tls, Other }

    /// <summary>
    /// Auto: gRPC where the runtime can (http:// on any runtime; https:// in PowerShell 7), else the JSON
    /// gateway (https:// in Windows PowerShell 5.1). Grpc: gRPC or an error. Gateway: the JSON gateway only.
    /// GrpcHttpClient: gRPC through .NET's HttpClient only, never ClusterDR's own HTTP/2 client (for comparisons).
    /// </summary>
    public enum EtcdSnapshotProtocol { Auto, Grpc, Gateway, GrpcHttpClient }

    public sealed class EtcdEndpointStatus
    {
        public string Endpoint { get; set; }
        public ulong ClusterId { get; set; }
        public ulong MemberId { get; set; }
        public long Revision { get; set; }
        public long RaftTerm { get; set; }
        public long RaftIndex { get; set; }
        /// <summary>0 when the member knows no leader.</summary>
        public ulong Leader { get; set; }
        public long DbSize { get; set; }
        public string Version { get; set; }
        public string[] Errors { get; set; }

        /// <summary>Reads a status object as the gateway (numbers as strings) or etcdctl -w json (numbers) writes it.</summary>
        public static EtcdEndpointStatus FromJson(JToken s, string endpoint) => new EtcdEndpointStatus
        {
            Endpoint = endpoint,
            ClusterId = EtcdClient.U64(s?["header"]?["cluster_id"]),
            MemberId = EtcdClient.U64(s?["header"]?["member_id"]),
            Revision = (long)EtcdClient.U64(s?["header"]?["revision"]),
            RaftTerm = (long)EtcdClient.U64(s?["raftTerm"]),
            RaftIndex = (long)EtcdClient.U64(s?["raftIndex"]),
            Leader = EtcdClient.U64(s?["leader"]),
            DbSize = (long)EtcdClient.U64(s?["dbSize"]),
            Version = (string)s?["version"],
            Errors = (s?["errors"] as JArray)?.Select(e => (string)e).ToArray() ?? new string[0],
        };
    }

    public sealed class EtcdMemberInfo
    {
        public ulong Id { get; set; }
        public string Name { get; set; }
        public string[] PeerUrls { get; set; }
        public string[] ClientUrls { get; set; }
        public string IdHex => Id.ToString("x");

        public static IList<EtcdMemberInfo> ListFromJson(JToken members) =>
            ((members as JArray) ?? new JArray()).Select(m => new EtcdMemberInfo
            {
                Id = EtcdClient.U64(m["ID"]),
                Name = (string)m["name"] ?? "",
                PeerUrls = (m["peerURLs"] as JArray)?.Select(u => (string)u).ToArray() ?? new string[0],
                ClientUrls = (m["clientURLs"] as JArray)?.Select(u => (string)u).ToArray() ?? new string[0],
            }).ToList();
    }
}
