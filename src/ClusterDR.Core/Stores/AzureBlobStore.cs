using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Xml;
using ClusterDR.Transport;

namespace ClusterDR.Stores
{
    /// <summary>
    /// Backups in an Azure Blob container, over the Blob REST API on Transport's HTTP layer (not Azure.Storage.Blobs:
    /// six calls do not need a second HTTP stack, and Az.Storage's copy of that library would share the session).
    /// Uploads are staged blocks committed at once by Put Block List with If-None-Match: *, so a blob is never
    /// overwritten and an abandoned upload stays uncommitted, invisible, until Azure drops it. Authorization: a SAS
    /// token, the account key (Shared Key) or a bearer token (https only).
    /// </summary>
    public sealed class AzureBlobStore : RemoteStore
    {
        internal const string ApiVersion = "2021-08-06";
        private static readonly HttpClient Shared = HttpClients.Client(TimeSpan.FromMinutes(10), HttpClients.WireHandler(32, null));
        private readonly HttpClient Http;

        private readonly Uri _endpoint; // no trailing slash
        private readonly string _sas;    // the query without '?', or null
        private readonly AzureSharedKey _key;
        private readonly System.Security.SecureString _token;

        private AzureBlobStore(Uri endpoint, string account, string container, string prefix, string sas, AzureSharedKey key, System.Security.SecureString token,
            System.Security.Cryptography.X509Certificates.X509Certificate2Collection anchors)
        {
            // One client for the process (its connections are reused), unless this store trusts a CA of its own.
            Http = anchors == null ? Shared : HttpClients.Client(TimeSpan.FromMinutes(10), HttpClients.WireHandler(32, null, anchors));
            _endpoint = endpoint;
            AccountName = account;
            Container = container;
            Prefix = S3Store.NormalizePrefix(prefix);
            _sas = sas;
            _key = key;
            _token = token;
        }

        public string AccountName { get; }
        public string Container { get; }
        public Uri BlobEndpoint => _endpoint;
        public override string Kind => "AzureBlob";
        public override string Prefix { get; }
        public override string Location => Describe(Prefix);
        public override string Describe(string key) => _endpoint.ToString().TrimEnd('/') + "/" + Container + "/" + key;

        /// <summary>Blobs per listing page (Azure's own maximum is 5000).</summary>
        internal int PageSize { get; set; } = 5000;

        /// <summary>Checks the options and picks the credential; nothing is sent until the store is used.</summary>
        public static AzureBlobStore Create(AzureBlobStoreOptions o)
        {
            if (o == null || string.IsNullOrWhiteSpace(o.Container))
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument, "The Azure Blob container is missing (-Container).");
            string account = string.IsNullOrEmpty(o.AccountName) ? Environment.GetEnvironmentVariable("AZURE_STORAGE_ACCOUNT") : o.AccountName;
            Uri endpoint = o.BlobEndpoint;
            if (endpoint == null)
            {
                if (string.IsNullOrEmpty(account))
                    throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument, "Give the storage account (-StorageAccount, or AZURE_STORAGE_ACCOUNT) or the Blob endpoint (-BlobEndpoint).");
                endpoint = new Uri($"https://{account}.blob.core.windows.net");
            }
            if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != "http" && endpoint.Scheme != "https") || !string.IsNullOrEmpty(endpoint.Query))
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument,
                    $"'{endpoint.GetLeftPart(UriPartial.Path)}' is not a Blob service endpoint: give https://<account>.blob.core.windows.net (no SAS token in it; give that with -SasToken).", endpoint.GetLeftPart(UriPartial.Path));
            endpoint = new Uri(endpoint.ToString().TrimEnd('/'));
            // Azurite and other emulators name the account in the path: http://127.0.0.1:10000/devstoreaccount1.
            if (string.IsNullOrEmpty(account))
                account = endpoint.AbsolutePath.Trim('/').Length > 0 ? endpoint.AbsolutePath.Trim('/').Split('/')[0] : endpoint.Host.Split('.')[0];

            var sas = o.SasToken;
            var key = o.AccountKey;
            var token = o.AccessToken;
            int given = (sas != null ? 1 : 0) + (key != null ? 1 : 0) + (token != null ? 1 : 0);
            if (given > 1)
                throw new ClusterDrException(ErrorIds.StoreCredentialsAmbiguous, ErrorKind.InvalidArgument, "Give one Azure credential: -SasToken, -AccountKey or -AccessToken.");
            if (given == 0)
            {
                string envSas = Environment.GetEnvironmentVariable("AZURE_STORAGE_SAS_TOKEN"), envKey = Environment.GetEnvironmentVariable("AZURE_STORAGE_KEY");
                if (!string.IsNullOrEmpty(envSas)) sas = Secrets.Secure(envSas);
                else if (!string.IsNullOrEmpty(envKey)) key = Secrets.Secure(envKey);
                else
                    throw new ClusterDrException(ErrorIds.StoreCredentialsMissing, ErrorKind.InvalidArgument,
                        "No Azure credential was given (-SasToken, -AccountKey or -AccessToken) and neither AZURE_STORAGE_SAS_TOKEN nor AZURE_STORAGE_KEY is set.");
            }
            if (token != null && endpoint.Scheme != "https")
                throw new ClusterDrException(ErrorIds.InvalidAddress, ErrorKind.InvalidArgument,
                    $"A bearer token is sent over https only; {endpoint} is plain http.", endpoint.ToString());
            AzureSharedKey shared = null;
            if (key != null)
            {
                byte[] bytes;
                try { bytes = Convert.FromBase64String(Secrets.Plain(key)); }
                catch (FormatException) { throw new ClusterDrException(ErrorIds.StoreAccessDenied, ErrorKind.InvalidArgument, $"The account key for {account} is not base64, so not a storage account key."); }
                shared = new AzureSharedKey(account, bytes);
            }
            return new AzureBlobStore(endpoint, account, o.Container, o.Prefix, sas == null ? null : Secrets.Plain(sas).TrimStart('?'), shared, token, o.TrustedCertificates);
        }

        private Uri Url(string key, string query)
        {
            var sb = new StringBuilder(_endpoint.ToString()).Append('/').Append(Container);
            if (key != null) sb.Append('/').Append(string.Join("/", key.Split('/').Select(Uri.EscapeDataString)));
            string q = string.Join("&", new[] { query, _sas }.Where(x => !string.IsNullOrEmpty(x)));
            if (q.Length > 0) sb.Append('?').Append(q);
            return new Uri(sb.ToString());
        }

        private HttpResponseMessage Send(HttpMethod method, string key, string query, CancellationToken ct, HttpContent content = null,
            Action<HttpRequestMessage> headers = null, bool headersOnly = false, string what = "Reading")
        {
            var request = new HttpRequestMessage(method, Url(key, query)) { Content = content };
            request.Headers.TryAddWithoutValidation("x-ms-version", ApiVersion);
            request.Headers.TryAddWithoutValidation("x-ms-date", DateTime.UtcNow.ToString("R", CultureInfo.InvariantCulture));
            headers?.Invoke(request);
            if (_key != null) _key.Sign(request);
            else if (_token != null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Secrets.Plain(_token));
            string target = key == null ? Location : Describe(key);
            return HttpClients.Send(Http, request, headersOnly ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, ct,
                ex => AzureBlobErrors.Unreachable(this, what, target, ex));
        }

        /// <summary>Throws the mapped error unless the answer is a success; disposes the response then.</summary>
        private HttpResponseMessage Ok(HttpResponseMessage r, string what, string key)
        {
            if ((int)r.StatusCode < 300) return r;
            using (r) throw AzureBlobErrors.Map(this, r, what, key);
        }

        internal override IEnumerable<StoreObject> List(string prefix, bool recurse, CancellationToken ct)
        {
            string marker = null;
            do
            {
                string q = "restype=container&comp=list&maxresults=" + PageSize.ToString(CultureInfo.InvariantCulture)
                         + "&prefix=" + Uri.EscapeDataString(prefix ?? Prefix) + (recurse ? "" : "&delimiter=%2F")
                         + (marker == null ? "" : "&marker=" + Uri.EscapeDataString(marker));
                var page = new List<StoreObject>();
                using (var r = Ok(Send(HttpMethod.Get, null, q, ct, what: "Listing"), "Listing", null))
                using (var body = r.Content.ReadAsStreamAsync().GetAwaiter().GetResult())
                    marker = ReadPage(body, page);
                foreach (var o in page) yield return o;
            } while (!string.IsNullOrEmpty(marker));
        }

        /// <summary>One page of List Blobs: its blobs (prefixes of a delimited listing are not objects) and the next marker.</summary>
        private static string ReadPage(Stream body, List<StoreObject> into)
        {
            string next = null;
            var doc = new XmlDocument { XmlResolver = null };
            using (var xr = XmlReader.Create(body, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null })) doc.Load(xr);
            foreach (XmlElement blob in doc.SelectNodes("/EnumerationResults/Blobs/Blob"))
            {
                string name = blob["Name"]?.InnerText;
                var props = blob["Properties"];
                long.TryParse(props?["Content-Length"]?.InnerText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long length);
                DateTime.TryParse(props?["Last-Modified"]?.InnerText, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var modified);
                if (name != null) into.Add(new StoreObject(name, length, modified));
            }
            next = doc.SelectSingleNode("/EnumerationResults/NextMarker")?.InnerText;
            return next;
        }

        internal override StoreObject Stat(string key, CancellationToken ct)
        {
            using (var r = Send(HttpMethod.Head, key, null, ct))
            {
                if (r.StatusCode == HttpStatusCode.NotFound && AzureBlobErrors.Code(r, null) != "ContainerNotFound") return null;
                Ok(r, "Reading", key);
                return new StoreObject(key, r.Content.Headers.ContentLength ?? 0, (r.Content.Headers.LastModified ?? DateTimeOffset.MinValue).UtcDateTime);
            }
        }

        internal override Stream OpenRead(string key, long offset, long? count, CancellationToken ct)
        {
            if (count == 0) return new MemoryStream(new byte[0], false);
            var r = Send(HttpMethod.Get, key, null, ct, headersOnly: true, headers: q =>
            {
                if (offset > 0 || count != null)
                    q.Headers.TryAddWithoutValidation("x-ms-range", "bytes=" + offset.ToString(CultureInfo.InvariantCulture) + "-" +
                        (count == null ? "" : (offset + count.Value - 1).ToString(CultureInfo.InvariantCulture)));
            });
            if (r.StatusCode == HttpStatusCode.NotFound && AzureBlobErrors.Code(r, null) == "BlobNotFound")
            {
                r.Dispose();
                throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup archive at '{Describe(key)}'.", Describe(key));
            }
            Ok(r, "Reading", key);
            return new ResponseStream(r);
        }

        internal override void Delete(string key, CancellationToken ct)
        {
            using (Ok(Send(HttpMethod.Delete, key, null, ct, headers: q => q.Headers.TryAddWithoutValidation("x-ms-delete-snapshots", "include"), what: "Deleting"), "Deleting", key)) { }
        }

        internal override void EnsureContainer(CancellationToken ct)
        {
            using (var r = Send(HttpMethod.Put, null, "restype=container", ct, new ByteArrayContent(new byte[0]), what: "Creating the container"))
                if (r.StatusCode != HttpStatusCode.Conflict) Ok(r, "Creating the container", null);
        }

        internal override IMultipartUpload StartMultipart(string key, CancellationToken ct) => new Upload(this, key);


        private sealed class ResponseStream : Backups.ReadOnlyStream
        {
            private readonly HttpResponseMessage _response;
            private readonly Stream _body;
            public ResponseStream(HttpResponseMessage response) { _response = response; _body = response.Content.ReadAsStreamAsync().GetAwaiter().GetResult(); }
            public override int Read(byte[] buffer, int offset, int count) => _body.Read(buffer, offset, count);
            protected override void Dispose(bool disposing)
            {
                if (disposing) { _body.Dispose(); _response.Dispose(); }
                base.Dispose(disposing);
            }
        }

        /// <summary>Staged blocks; nothing to abort: uncommitted blocks are invisible and Azure drops them after a week.</summary>
        private sealed class Upload : IMultipartUpload
        {
            private readonly AzureBlobStore _store;
            private readonly string _key;
            // Two uploads racing to one name stage their blocks side by side: with ids of their own, neither can
            // overwrite the other's uncommitted blocks, and each commit names only its own.
            private readonly string _token = Guid.NewGuid().ToString("N").Substring(0, 8);
            public Upload(AzureBlobStore store, string key) { _store = store; _key = key; }

            /// <summary>A block id of fixed length (Azure wants every id of a blob the same length), base64.</summary>
            private string BlockId(int n) => Convert.ToBase64String(Encoding.ASCII.GetBytes("clusterdr-" + _token + "-" + n.ToString("D6", CultureInfo.InvariantCulture)));

            public void UploadPart(int partNumber, byte[] data, int count, CancellationToken ct)
            {
                string q = "comp=block&blockid=" + Uri.EscapeDataString(BlockId(partNumber));
                using (_store.Ok(_store.Send(HttpMethod.Put, _key, q, ct, new ByteArrayContent(data, 0, count), what: "Uploading"), "Uploading", _key)) { }
            }

            public void Complete(int partCount, CancellationToken ct)
            {
                var xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
                for (int n = 1; n <= partCount; n++) xml.Append("<Latest>").Append(BlockId(n)).Append("</Latest>");
                xml.Append("</BlockList>");
                var body = new ByteArrayContent(Encoding.UTF8.GetBytes(xml.ToString()));
                using (var r = _store.Send(HttpMethod.Put, _key, "comp=blocklist", ct, body, headers: q => q.Headers.TryAddWithoutValidation("If-None-Match", "*"), what: "Finishing the upload"))
                {
                    string code = (int)r.StatusCode >= 300 ? AzureBlobErrors.Code(r, null) : null;
                    if (r.StatusCode == HttpStatusCode.PreconditionFailed || code == "BlobAlreadyExists" || code == "ConditionNotMet")
                        throw new ClusterDrException(ErrorIds.BackupExists, ErrorKind.ResourceExists,
                            $"Another backup named '{_store.Describe(_key)}' was stored first, while this one was being written; that backup is kept as it is and this upload was abandoned, so nothing was lost.",
                            _store.Describe(_key), surfaceAsIs: true);
                    _store.Ok(r, "Finishing the upload", _key);
                }
            }

            public void Dispose() { }
        }
    }
}
