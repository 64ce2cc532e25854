using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Security;
using System.Threading;
using Amazon.Runtime;
using Amazon.S3;
using ClusterDR.Safety;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Deis
{
    /// <summary>Where the Deis v1 store's S3 gateway is and how to sign for it.</summary>
    public sealed class DeisS3Options
    {
        /// <summary>The gateway URL, addressed path-style (http://deis-store.example.com).</summary>
        public Uri GatewayUri { get; set; }
        public string AccessKey { get; set; }
        public SecureString SecretKey { get; set; }
        /// <summary>"4" (SigV4, default) or "2" (the older S3 signature, for gateways that need it).</summary>
        public string SignatureVersion { get; set; } = "4";
        public string Region { get; set; } = "us-east-1";
        public string[] Buckets { get; set; } = (string[])DeisStore.DefaultBuckets.Clone(); // each request its own: a caller may change it
        /// <summary>Objects transferred at once.</summary>
        public int Parallelism { get; set; } = 16;
        /// <summary>A restore uploads objects bigger than this in parts of this size (S3's minimum part is 5 MiB).</summary>
        public long PartSize { get; set; } = 8L * 1024 * 1024;
        /// <summary>
        /// Server-side copies (moving an object aside, putting it back) of objects bigger than this go part by part,
        /// because one CopyObject stops at 5 GiB (a copy in parts has the same bytes but a multi-part ETag).
        /// </summary>
        public long CopyPartSize { get; set; } = 5L * 1024 * 1024 * 1024;
    }

    /// <summary>The store, database and controller nodes and the commands run there.</summary>
    public sealed class DeisNodeOptions
    {
        public string StoreDir { get; set; } = "/var/lib/deis/store";
        /// <summary>The ceph CLI on the store node (e.g. "docker exec deis-store-monitor ceph").</summary>
        public string CephCommand { get; set; } = "ceph";
        public string DeisctlPath { get; set; } = "deisctl";
        /// <summary>Writes pg_dumpall's SQL on stdout.</summary>
        public string DatabaseDumpCommand { get; set; } = "docker exec deis-database sudo -u postgres pg_dumpall";
        /// <summary>Reads SQL on stdin and runs it.</summary>
        public string DatabaseLoadCommand { get; set; } = "docker exec -i deis-database sudo -u postgres psql -q -d postgres";
        /// <summary>Reads the re-save script (Python for manage.py shell) on stdin.</summary>
        public string ControllerCommand { get; set; } = "docker exec -i deis-controller /app/manage.py shell";
        public TimeSpan CephTimeout { get; set; } = TimeSpan.FromSeconds(10);
    }

    public static class DeisStore
    {
        public const string Kind = "deis-store";
        public const string Platform = "deis";
        public static readonly string[] DefaultBuckets = { "db_wal", "registry" };
        public const string ObjectsRoot = "s3";
        /// <summary>Objects whose key is not a clean relative path ("dir/" markers, "a//b", "./x", '%'): s3x/&lt;bucket&gt;/&lt;hex of the UTF-8 key&gt;.</summary>
        public const string EncodedObjectsRoot = "s3x";
        /// <summary>The payload index that lists every object payload (path, size, SHA-256), so manifest.json stays small; older backups list them in manifest.json.</summary>
        public const string ObjectIndexPayload = "index/objects.jsonl";
        public const string VolumePayload = "volume/store.tar";
        public const string DatabasePayload = "database/pg_dumpall.sql";
        /// <summary>Where Restore-DeisStore -Force moves an object it overwrites, in the same bucket: clusterdr-moved-aside/&lt;UTC stamp&gt;/&lt;key&gt;.</summary>
        public const string MovedAsidePrefix = "clusterdr-moved-aside/";

        /// <summary>The re-save step of the Deis v1 restore procedure: every key, app and domain saved again.</summary>
        public const string ReSaveScript =
            "from api.models import *\n" +
            "[k.save() for k in Key.objects.all()]\n" +
            "[a.save() for a in App.objects.all()]\n" +
            "[d.save() for d in Domain.objects.all()]\n";

        /// <summary>The payload name of an object: s3/&lt;bucket&gt;/&lt;key&gt; when the key is a clean path, else s3x/&lt;bucket&gt;/&lt;hex&gt;.</summary>
        public static string ArchiveName(string bucket, string key)
        {
            string plain = ObjectsRoot + "/" + bucket + "/" + key;
            bool clean;
            try { clean = key.Length > 0 && key.IndexOf('%') < 0 && Backups.ArchivePaths.Normalize(plain) == plain; }
            catch (ClusterDrException) { clean = false; }
            if (clean) return plain;
            var sb = new System.Text.StringBuilder(EncodedObjectsRoot + "/" + bucket + "/");
            foreach (byte b in System.Text.Encoding.UTF8.GetBytes(key)) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
            return sb.ToString();
        }

        /// <summary>The bucket and key of an object payload; false for other payloads.</summary>
        public static bool TryParseArchiveName(string name, out string bucket, out string key)
        {
            bucket = key = null;
            bool encoded = name.StartsWith(EncodedObjectsRoot + "/", StringComparison.Ordinal);
            if (!encoded && !name.StartsWith(ObjectsRoot + "/", StringComparison.Ordinal)) return false;
            string rest = name.Substring((encoded ? EncodedObjectsRoot : ObjectsRoot).Length + 1);
            int slash = rest.IndexOf('/');
            if (slash <= 0) return false;
            bucket = rest.Substring(0, slash);
            key = rest.Substring(slash + 1);
            if (encoded)
            {
                // A damaged or hand-made archive: refused by name, not with a bare FormatException.
                if (key.Length == 0 || key.Length % 2 != 0 || !key.All(Uri.IsHexDigit))
                    throw new ClusterDrException(ErrorIds.UnexpectedEntry, ErrorKind.InvalidData,
                        $"The backup holds '{name}', which is not an object of the store: after {EncodedObjectsRoot}/<bucket>/ comes the key's UTF-8 bytes in hex.", name, surfaceAsIs: true);
                var bytes = new byte[key.Length / 2];
                for (int i = 0; i < bytes.Length; i++) bytes[i] = byte.Parse(key.Substring(2 * i, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                key = System.Text.Encoding.UTF8.GetString(bytes);
            }
            return true;
        }

        /// <summary>
        /// The S3 client: path-style, the gateway as ServiceURL, a fixed signing region, checksums only
        /// when an operation requires them (Ceph's radosgw does not know the newer trailing checksums).
        /// </summary>
        public static AmazonS3Client Client(DeisS3Options o)
        {
            if (o.GatewayUri == null) throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument, "The S3 gateway URL is missing (-GatewayUri).");
            // The SDK would refuse a relative or non-HTTP URL with its own exception and message.
            if (!o.GatewayUri.IsAbsoluteUri || (o.GatewayUri.Scheme != "http" && o.GatewayUri.Scheme != "https"))
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument,
                    $"'{o.GatewayUri.OriginalString}' is not an S3 gateway URL: give http:// or https:// and the host, such as http://deis-store.example.com.", o.GatewayUri.OriginalString);
            if (string.IsNullOrEmpty(o.AccessKey) || o.SecretKey == null)
                throw new ClusterDrException(ErrorIds.CredentialsUnavailable, ErrorKind.InvalidArgument, "The S3 access key and secret key are missing: give -Credential, or -Node (or -SshSession) to read them with deisctl.");
            if (o.SignatureVersion != "2" && o.SignatureVersion != "4")
                throw new ClusterDrException(ErrorIds.S3Error, ErrorKind.InvalidArgument, $"-SignatureVersion '{o.SignatureVersion}': the S3 gateway is signed for with 4 (SigV4) or 2 (the older S3 signature).");
            var config = new AmazonS3Config
            {
                ServiceURL = o.GatewayUri.ToString(),
                ForcePathStyle = true,
                AuthenticationRegion = o.Region,
                UseHttp = o.GatewayUri.Scheme == "http",
                RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
                ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
                MaxErrorRetry = 2,
                Timeout = TimeSpan.FromMinutes(10),
            };
            int connections = Math.Max(16, 2 * o.Parallelism);
            if (o.SignatureVersion == "2")
            {
                // AWSSDK.S3 4.x signs with SigV4 only: it runs unsigned and the last handler before the wire signs with SigV2.
                config.HttpClientFactory = new S3HttpClientFactory(o.AccessKey, System.Text.Encoding.UTF8.GetBytes(Secrets.Plain(o.SecretKey)), connections);
                return Traced(new AmazonS3Client(new AnonymousAWSCredentials(), config), o.GatewayUri);
            }
            // Our HttpClients under SigV4 too: keys with "." or ".." segments must reach the wire as the SDK signed them.
            config.HttpClientFactory = new S3HttpClientFactory(o.AccessKey, null, connections);
            return Traced(new AmazonS3Client(new BasicAWSCredentials(o.AccessKey, Secrets.Plain(o.SecretKey)), config), o.GatewayUri);
        }

        /// <summary>
        /// A -Debug line per S3 operation ("S3 GetObject http://gateway/bucket/key"), written as the SDK sends it: the
        /// operation, bucket and key only (keys and signatures travel in headers, never in the line).
        /// </summary>
        internal static AmazonS3Client Traced(AmazonS3Client client, Uri gateway)
        {
            client.BeforeRequestEvent += (sender, e) =>
            {
                var request = (e as Amazon.Runtime.WebServiceRequestEventArgs)?.Request;
                if (request == null) return;
                string op = request.GetType().Name;
                if (op.EndsWith("Request", StringComparison.Ordinal)) op = op.Substring(0, op.Length - "Request".Length);
                string bucket = request.GetType().GetProperty("BucketName")?.GetValue(request) as string;
                string key = request.GetType().GetProperty("Key")?.GetValue(request) as string;
                string path = string.Join("/", new[] { bucket, key }.Where(x => !string.IsNullOrEmpty(x)).SelectMany(x => x.Split('/')).Select(Uri.EscapeDataString));
                Transport.DebugLog.Write($"S3 {op} {Transport.DebugLog.Redact(new Uri(gateway, "/" + path))}");
            };
            return client;
        }

        /// <summary>
        /// Maps an S3 failure to a stable error id; the message never holds a secret. <paramref name="objectPath"/>
        /// (bucket/key) names the object of a request made after the keys were proven (the listing worked): a
        /// signature the gateway rejects then is not a wrong key but a request it saw otherwise than it was signed.
        /// </summary>
        internal static ClusterDrException Map(Exception ex, DeisS3Options o, string what, string objectPath = null)
        {
            if (ex is AggregateException ag && ag.InnerExceptions.Count > 0) ex = ag.InnerExceptions[0];
            if (ex is ClusterDrException cd) return cd;
            if (ex is AmazonS3Exception s3)
            {
                string code = s3.ErrorCode ?? s3.StatusCode.ToString();
                // The gateway's own message only: without an error body the SDK's text says nothing more than the status.
                string said = string.IsNullOrEmpty(s3.ErrorCode) || string.IsNullOrWhiteSpace(s3.Message) || s3.Message.StartsWith("Error making request", StringComparison.Ordinal) ? "" : ": " + s3.Message;
                bool wrongKeys = s3.ErrorCode == "InvalidAccessKeyId" || s3.ErrorCode == "SignatureDoesNotMatch";
                bool denied = wrongKeys || s3.StatusCode == HttpStatusCode.Forbidden || s3.StatusCode == HttpStatusCode.Unauthorized || s3.ErrorCode == "AccessDenied";
                if (objectPath != null)
                {
                    if (wrongKeys)
                        return new ClusterDrException(ErrorIds.S3Error, ErrorKind.InvalidOperation,
                            $"{what}: the S3 gateway {o.GatewayUri} rejected the request for {objectPath} ({code}), although the same keys listed the buckets: the object's name did not reach the gateway as it was signed.", objectPath, ex, surfaceAsIs: true);
                    if (denied)
                        return new ClusterDrException(ErrorIds.S3AccessDenied, ErrorKind.SecurityError,
                            $"{what}: the S3 gateway {o.GatewayUri} refused access to {objectPath} ({code}): the keys work, but lack the permission for this object (a bucket policy or ACL).", objectPath, ex, surfaceAsIs: true);
                    if (s3.StatusCode == HttpStatusCode.NotFound)
                        return new ClusterDrException(ErrorIds.S3ObjectMismatch, ErrorKind.ObjectNotFound,
                            $"{what}: the S3 gateway {o.GatewayUri} has no {objectPath} ({code}), though it is listed: it was deleted meanwhile, or its name did not reach the gateway unchanged.", objectPath, ex, surfaceAsIs: true);
                    return new ClusterDrException(ErrorIds.S3Error, ErrorKind.InvalidOperation, $"{what}: the S3 gateway {o.GatewayUri} answered {(int)s3.StatusCode} {code} for {objectPath}{said}", objectPath, ex);
                }
                if (wrongKeys)
                    return new ClusterDrException(ErrorIds.S3AccessDenied, ErrorKind.SecurityError,
                        $"{what}: the S3 gateway {o.GatewayUri} refused the keys ({s3.ErrorCode}). Check the access key and secret key (deisctl config store get gateway/accessKey|secretKey).", o.GatewayUri, ex, surfaceAsIs: true);
                if (denied)
                    return new ClusterDrException(ErrorIds.S3AccessDenied, ErrorKind.SecurityError,
                        $"{what}: the S3 gateway {o.GatewayUri} refused it ({code}): the keys are wrong, or they lack the permission (a bucket policy or ACL). Check the access key and secret key (deisctl config store get gateway/accessKey|secretKey) and the bucket's policy.", o.GatewayUri, ex, surfaceAsIs: true);
                return new ClusterDrException(ErrorIds.S3Error, ErrorKind.InvalidOperation, $"{what}: the S3 gateway {o.GatewayUri} answered {(int)s3.StatusCode} {code}{said}", o.GatewayUri, ex);
            }
            if (ex is AmazonServiceException || ex is WebException || ex is System.Net.Http.HttpRequestException || ex is System.IO.IOException)
                return new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.ConnectionError, $"{what}: the S3 gateway {o.GatewayUri} cannot be reached: {ex.Message}", o.GatewayUri, ex);
            return new ClusterDrException(ErrorIds.S3Error, ErrorKind.InvalidOperation, $"{what}: {ex.Message}", o.GatewayUri, ex);
        }

        internal static T S3<T>(DeisS3Options o, string what, Func<System.Threading.Tasks.Task<T>> call, string objectPath = null)
        {
            try { return call().GetAwaiter().GetResult(); }
            catch (Exception ex) when (!(ex is OperationCanceledException)) { throw Map(ex, o, what, objectPath); }
        }

        /// <summary>
        /// Reads the gateway's access key and secret key on a node with deisctl. The command text holds
        /// no secret; the secret is read from stdout into a SecureString and never echoed.
        /// </summary>
        public static void ReadKeysFromNode(IRemoteShell sh, DeisNodeOptions n, DeisS3Options o, CancellationToken ct)
        {
            string d = Sh.Quote(n.DeisctlPath);
            var r = sh.RunText($"{d} config store get gateway/accessKey && {d} config store get gateway/secretKey", null, ct);
            if (r.ExitCode != 0)
                throw new ClusterDrException(ErrorIds.CredentialsUnavailable, ErrorKind.ObjectNotFound,
                    $"deisctl config store get gateway/accessKey|secretKey on {sh.Node} failed with exit code {r.ExitCode}.", sh.Node);
            var lines = r.StdOut.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            if (lines.Length != 2)
                throw new ClusterDrException(ErrorIds.CredentialsUnavailable, ErrorKind.InvalidData,
                    $"deisctl on {sh.Node} did not print one access key and one secret key ({lines.Length} line(s)).", sh.Node);
            o.AccessKey = lines[0];
            o.SecretKey = Secrets.Secure(lines[1]);
        }

        /// <summary>The Ceph monitors' quorum and the cluster health, read with the ceph CLI on a store node.</summary>
        public static QuorumStatus ReadCeph(IRemoteShell sh, DeisNodeOptions n, CancellationToken ct, out string health, out string problem)
        {
            int t = Math.Max(1, (int)n.CephTimeout.TotalSeconds);
            string ceph = n.CephCommand + " --connect-timeout " + t.ToString(CultureInfo.InvariantCulture);
            string script = $"timeout {t + 5} {ceph} quorum_status -f json && echo '---' && timeout {t + 5} {ceph} health";
            var r = sh.RunText(script, null, ct);
            health = null;
            problem = null;
            if (r.ExitCode != 0)
            {
                problem = $"the Ceph monitors did not answer on {sh.Node} (exit code {r.ExitCode}{(r.StdErr.Trim().Length > 0 ? ": " + Tail(r.StdErr) : "")})";
                return new QuorumStatus(Platform, "ceph", new ClusterMember[0]);
            }
            int sep = r.StdOut.IndexOf("\n---\n", StringComparison.Ordinal);
            string json = sep < 0 ? r.StdOut : r.StdOut.Substring(0, sep);
            health = sep < 0 ? "" : r.StdOut.Substring(sep + 5).Trim();
            try
            {
                var q = JObject.Parse(json);
                var inQuorum = new HashSet<string>((q["quorum_names"] as JArray ?? new JArray()).Select(x => (string)x));
                var mons = (q["monmap"]?["mons"] as JArray ?? new JArray()).Select(m => (string)m["name"]).ToList();
                string fsid = (string)q["monmap"]?["fsid"] ?? "ceph";
                return new QuorumStatus(Platform, fsid, mons.Select(m => new ClusterMember
                {
                    Name = m, Id = m, Healthy = inQuorum.Contains(m), Endpoint = "mon." + m, IsLeader = m == (string)q["quorum_leader_name"],
                }).ToArray());
            }
            // Not JSON, or JSON of another shape (a string where a name belongs): the command is not the ceph CLI it should be.
            catch (Exception ex) when (ex is Newtonsoft.Json.JsonException || ex is ArgumentException || ex is InvalidCastException)
            {
                string head = json.Trim();
                head = head.Length > 100 ? head.Substring(0, 100) + "…" : head;
                throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData,
                    $"The ceph command's output on {sh.Node} is not the JSON of 'ceph quorum_status -f json': \"{head}\". Check -CephCommand ('{n.CephCommand}').", sh.Node, ex, surfaceAsIs: true);
            }
        }

        /// <summary>Backup guard: monitors in quorum and the cluster not in HEALTH_ERR, unless -Force.</summary>
        internal static QuorumStatus Guard(IRemoteShell sh, DeisNodeOptions n, bool force, IOperationContext ctx)
        {
            var status = ReadCeph(sh, n, ctx.Cancellation, out string health, out string problem);
            if (problem == null && !status.HasQuorum)
                problem = $"the Ceph monitors have no quorum ({status.HealthyCount} of {status.MemberCount} in quorum, {status.QuorumSize} needed)";
            if (problem == null && health != null && health.StartsWith("HEALTH_ERR", StringComparison.Ordinal))
                problem = $"the Ceph cluster is in {Tail(health)}";
            if (problem == null)
            {
                ctx.WriteVerbose($"Ceph on {sh.Node}: {status.HealthyCount} of {status.MemberCount} monitor(s) in quorum, {health}.");
                return status;
            }
            QuorumGuard.Refuse(ErrorIds.QuorumAtRisk, ErrorKind.InvalidOperation, $"The Deis store is not safe to read: {problem}.", force, ctx, status,
                    recommendedAction: "Wait until the Ceph monitors have quorum and the cluster is out of HEALTH_ERR, or pass -Force to back up anyway (the backup may be inconsistent).");
            return status;
        }

        internal static string Tail(string s)
        {
            s = (s ?? "").Trim();
            return s.Length > 400 ? "…" + s.Substring(s.Length - 400) : s;
        }
    }
}
