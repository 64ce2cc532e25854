using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Security;
using System.Text;
using System.Threading;
using ClusterDR.Transport;
using Newtonsoft.Json.Linq;

namespace ClusterDR.Dcos
{
    /// <summary>
    /// The DC/OS backup service behind Admin Router (&lt;cluster&gt;/system/v1/backup/v1/): create, list,
    /// restore, delete. The ACS token stays a SecureString until the moment a request is built.
    /// </summary>
    public sealed class DcosBackupClient : IDisposable
    {
        public const string ApiPath = "system/v1/backup/v1/";

        private readonly HttpClient _http;
        private readonly SecureString _token;

        public DcosBackupClient(Uri cluster, SecureString acsToken, string caCertificatePath = null, TimeSpan? timeout = null)
        {
            if (cluster == null || !cluster.IsAbsoluteUri || (cluster.Scheme != "http" && cluster.Scheme != "https"))
                throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidArgument, $"'{cluster}' is not a DC/OS cluster URL (https://…).", cluster);
            Cluster = cluster.AbsolutePath.EndsWith("/", StringComparison.Ordinal) ? cluster : new UriBuilder(cluster) { Path = cluster.AbsolutePath + "/" }.Uri;
            _token = acsToken;
            Handler = HttpClients.Handler(CaBundle.Anchors(caCertificatePath));
            _http = HttpClients.Client(timeout ?? TimeSpan.FromSeconds(30), Handler, new Uri(Cluster, ApiPath));
        }

        /// <summary>The cluster URL, ending in '/'.</summary>
        public Uri Cluster { get; }
        public Uri Api => _http.BaseAddress;
        /// <summary>The TLS trust of this client, for other requests to the same cluster (Exhibitor).</summary>
        internal HttpMessageHandler Handler { get; }

        public DcosBackupInfo Create(string label, CancellationToken ct)
        {
            DcosBackupLabel.Validate(label);
            var j = Send(HttpMethod.Post, "create", new JObject { ["label"] = label }, $"Creating a backup labelled '{label}'", ErrorIds.InvalidBackupLabel, ct);
            return ReadBackup(j["backup_info"] as JObject ?? throw NoInfo("create", j));
        }

        /// <summary>Every backup with its restores (the service answers {} when there is none).</summary>
        public IList<DcosBackupInfo> List(CancellationToken ct)
        {
            var j = Send(HttpMethod.Get, "list", null, "Listing backups", ErrorIds.EndpointError, ct);
            return ((j["backup_info"] as JArray) ?? new JArray()).OfType<JObject>().Select(ReadBackup).ToList();
        }

        /// <summary>Starts restoring a backup; returns the restore (its own id, STATUS_RESTORING).</summary>
        public DcosRestoreInfo Restore(string backupId, CancellationToken ct)
        {
            var j = Send(HttpMethod.Post, "restore", new JObject { ["id"] = backupId }, $"Restoring backup {backupId}", ErrorIds.DcosBackupNotFound, ct);
            return ReadRestore(j["backup_info"] as JObject ?? throw NoInfo("restore", j), backupId);
        }

        /// <summary>Deletes a backup. The service refuses a restore id with 400.</summary>
        public void Delete(string backupId, CancellationToken ct) =>
            Send(HttpMethod.Delete, "delete", new JObject { ["id"] = backupId }, $"Deleting backup {backupId}", ErrorIds.DcosBackupNotFound, ct);

        /// <summary>Runs <paramref name="call"/> with the token as a string: the only place it exists as one.</summary>
        internal T WithToken<T>(Func<string, T> call) =>
            call(_token == null || _token.Length == 0 ? null : Secrets.Plain(_token));

        private JObject Send(HttpMethod method, string path, JObject body, string what, string badRequestId, CancellationToken ct)
        {
            using (var request = new HttpRequestMessage(method, path))
            {
                if (body != null) request.Content = new StringContent(body.ToString(Newtonsoft.Json.Formatting.None), Encoding.UTF8, "application/json");
                WithToken(token => { AcsToken.Authorize(request, token); return 0; });
                using (var response = HttpClients.Send(_http, request, HttpCompletionOption.ResponseContentRead, ct, ex => HttpErrors.Unreachable(Service, Api, ex)))
                {
                    string text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                    if (!response.IsSuccessStatusCode) throw Failure((int)response.StatusCode, text, what, badRequestId);
                    if (string.IsNullOrWhiteSpace(text)) return new JObject();
                    try { return JObject.Parse(text); }
                    catch (Exception ex)
                    {
                        throw new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"The DC/OS backup service at {Api} answered {path} with something other than JSON: {Trim(text)}", Api.ToString(), ex);
                    }
                }
            }
        }

        private const string Service = "the DC/OS backup service";

        /// <summary>The backup service's own answers (400 for an id it does not know, 500 while its lock is held), then <see cref="HttpErrors.Status"/>.</summary>
        private ClusterDrException Failure(int code, string text, string what, string badRequestId)
        {
            string errors = ServiceErrors(text);
            string target = Api.ToString();
            if (code == 400)
            {
                bool notFound = badRequestId == ErrorIds.DcosBackupNotFound;
                return new ClusterDrException(badRequestId, notFound ? ErrorKind.ObjectNotFound : ErrorKind.InvalidArgument,
                    $"{what} was refused by the DC/OS backup service (400): {errors}", target, surfaceAsIs: notFound);
            }
            if (code == 500 && IsBusy(errors))
                return new ClusterDrException(ErrorIds.BackupServiceBusy, ErrorKind.ResourceUnavailable,
                    $"{what} failed: the DC/OS backup service is busy with another backup or restore ({errors}). Wait for it (Get-DcosBackup -Wait) and try again.", target, surfaceAsIs: true);
            return HttpErrors.Status(Service, Api, code, errors, what,
                unauthorized: "a valid ACS token is required (-AcsToken)", forbidden: "the account behind the ACS token may not use the backup service");
        }

        /// <summary>The service's own lock: "backup/restore is currently busy: lock is already held".</summary>
        internal static bool IsBusy(string errors) =>
            errors.IndexOf("lock is already held", StringComparison.OrdinalIgnoreCase) >= 0 || errors.IndexOf("currently busy", StringComparison.OrdinalIgnoreCase) >= 0;

        /// <summary>The service reports failures as {"errors": ["…"]}; anything else is shown as it came.</summary>
        private static string ServiceErrors(string text)
        {
            try
            {
                var found = ErrorText(JObject.Parse(text));
                if (found != null) return found;
            }
            catch (Newtonsoft.Json.JsonException) { }
            return string.IsNullOrWhiteSpace(text) ? "no details" : Trim(text);
        }

        /// <summary>"errors": [...], "error" or "message" of a JSON object; null when it has none.</summary>
        private static string ErrorText(JToken j)
        {
            if (!(j is JObject o)) return null;
            if (o["errors"] is JArray list && list.Count > 0) return string.Join("; ", list.Select(e => e.Type == JTokenType.String ? (string)e : e.ToString(Newtonsoft.Json.Formatting.None)));
            return Text(o["error"]) ?? Text(o["message"]);
        }

        private static string Text(JToken t) => t != null && t.Type == JTokenType.String ? (string)t : null;

        private DcosBackupInfo ReadBackup(JObject j)
        {
            var b = Read(new DcosBackupInfo(), j);
            b.Label = DcosBackupLabel.FromId(b.Id);
            b.Restores = ((j["restores"] as JArray) ?? new JArray()).OfType<JObject>().Select(r => ReadRestore(r, b.Id)).ToArray();
            return b;
        }

        private DcosRestoreInfo ReadRestore(JObject j, string backupId)
        {
            var r = Read(new DcosRestoreInfo(), j);
            r.BackupId = backupId;
            return r;
        }

        private T Read<T>(T info, JObject j) where T : DcosStatusInfo
        {
            info.Id = Text(j["id"]);
            info.Status = Text(j["status"]) ?? DcosStatus.Unknown;
            info.Uri = Cluster;
            foreach (var c in (j["component_status"] as JObject)?.Properties() ?? Enumerable.Empty<JProperty>())
            {
                // {"marathon": {"status": "STATUS_READY"}}; a bare "STATUS_READY" is read too.
                info.ComponentStatus[c.Name] = Text(c.Value) ?? Text((c.Value as JObject)?["status"]) ?? DcosStatus.Unknown;
                var error = ErrorText(c.Value);
                if (error != null) info.ComponentErrors[c.Name] = error;
            }
            return info;
        }

        private ClusterDrException NoInfo(string path, JObject j) =>
            new ClusterDrException(ErrorIds.EndpointError, ErrorKind.InvalidData, $"The DC/OS backup service at {Api} answered {path} without backup_info: {Trim(j.ToString(Newtonsoft.Json.Formatting.None))}", Api.ToString());

        private static string Trim(string s) => s == null ? "" : (s.Length > 500 ? s.Substring(0, 500) + "…" : s).Trim();

        public void Dispose() => _http.Dispose();
    }
}
