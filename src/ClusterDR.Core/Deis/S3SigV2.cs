using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ClusterDR.Deis
{
    /// <summary>
    /// AWS Signature Version 2 for the S3 REST API, for gateways that need the older signature.
    /// AWSSDK.S3 4.x signs with SigV4 only, so with -SignatureVersion 2 the SDK runs with anonymous
    /// credentials (it signs nothing) and <see cref="S3SigV2Handler"/>, the last handler before the
    /// wire, signs each request exactly as it is sent: the method, the Content-MD5 and Content-Type
    /// headers, an x-amz-date it sets itself, every x-amz-* header, the escaped path and the signed
    /// sub-resources of the query (?uploads, ?partNumber=&amp;uploadId=, ?acl, …).
    /// </summary>
    public static class S3SigV2
    {
        /// <summary>The query parameters that belong to the signed resource (S3's list, as Ceph radosgw checks it).</summary>
        public static readonly string[] SignedSubresources =
        {
            "acl", "cors", "delete", "encryption", "lifecycle", "location", "logging", "notification", "object-lock", "partNumber", "policy",
            "policyStatus", "publicAccessBlock", "requestPayment", "response-cache-control", "response-content-disposition",
            "response-content-encoding", "response-content-language", "response-content-type", "response-expires", "tagging", "torrent",
            "uploadId", "uploads", "versionId", "versioning", "versions", "website",
        };

        private static readonly HashSet<string> Signed = new HashSet<string>(SignedSubresources, StringComparer.Ordinal);

        /// <summary>
        /// StringToSign = VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedAmzHeaders CanonicalizedResource.
        /// <paramref name="path"/> is the escaped path as sent; <paramref name="query"/> the raw query (with or without '?').
        /// </summary>
        public static string StringToSign(string method, string contentMd5, string contentType, string date,
            IEnumerable<KeyValuePair<string, string>> headers, string path, string query)
        {
            var sb = new StringBuilder();
            sb.Append(method).Append('\n');
            sb.Append(contentMd5 ?? "").Append('\n');
            sb.Append(contentType ?? "").Append('\n');
            sb.Append(date ?? "").Append('\n');
            foreach (var h in CanonicalAmzHeaders(headers)) sb.Append(h.Key).Append(':').Append(h.Value).Append('\n');
            sb.Append(CanonicalResource(path, query));
            return sb.ToString();
        }

        /// <summary>x-amz-* headers: names in lower case, sorted, values of one name joined by ',', whitespace unfolded and trimmed.</summary>
        internal static IEnumerable<KeyValuePair<string, string>> CanonicalAmzHeaders(IEnumerable<KeyValuePair<string, string>> headers) =>
            headers.Where(h => h.Key.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
                .GroupBy(h => h.Key.ToLowerInvariant())
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new KeyValuePair<string, string>(g.Key, string.Join(",", g.Select(h => Unfold(h.Value)))));

        private static string Unfold(string v) => System.Text.RegularExpressions.Regex.Replace(v ?? "", @"\s*\r?\n\s*", " ").Trim();

        /// <summary>The path as sent, then the signed sub-resources sorted by name with their decoded values (?partNumber=2&amp;uploadId=…).</summary>
        internal static string CanonicalResource(string path, string query)
        {
            var sb = new StringBuilder(string.IsNullOrEmpty(path) ? "/" : path);
            var subs = new List<KeyValuePair<string, string>>();
            foreach (var pair in (query ?? "").TrimStart('?').Split(new[] { '&' }, StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=');
                string name = Uri.UnescapeDataString(eq < 0 ? pair : pair.Substring(0, eq));
                if (!Signed.Contains(name)) continue;
                subs.Add(new KeyValuePair<string, string>(name, eq < 0 ? "" : Uri.UnescapeDataString(pair.Substring(eq + 1).Replace('+', ' '))));
            }
            char sep = '?';
            foreach (var s in subs.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                sb.Append(sep).Append(s.Key);
                if (s.Value.Length > 0) sb.Append('=').Append(s.Value);
                sep = '&';
            }
            return sb.ToString();
        }

        /// <summary>Base64 of HMAC-SHA1(secret, stringToSign).</summary>
        public static string Signature(byte[] secret, string stringToSign)
        {
            using (var h = new HMACSHA1(secret)) return Convert.ToBase64String(h.ComputeHash(Encoding.UTF8.GetBytes(stringToSign)));
        }

        /// <summary>Signs a request as it will go on the wire: sets x-amz-date and "Authorization: AWS key:signature".</summary>
        public static void Sign(HttpRequestMessage request, string accessKey, byte[] secret, DateTime utcNow)
        {
            request.Headers.Remove("Authorization");
            request.Headers.Remove("X-Amz-Date");
            request.Headers.Date = null;
            // With x-amz-date the Date line of the string to sign stays empty and x-amz-date is signed as an x-amz header.
            request.Headers.TryAddWithoutValidation("x-amz-date", utcNow.ToString("r", CultureInfo.InvariantCulture));
            string md5 = null, type = null;
            var headers = new List<KeyValuePair<string, string>>();
            foreach (var h in request.Headers) foreach (var v in h.Value) headers.Add(new KeyValuePair<string, string>(h.Key, v));
            if (request.Content != null)
            {
                foreach (var h in request.Content.Headers)
                {
                    if (string.Equals(h.Key, "Content-MD5", StringComparison.OrdinalIgnoreCase)) md5 = string.Join(",", h.Value);
                    else if (string.Equals(h.Key, "Content-Type", StringComparison.OrdinalIgnoreCase)) type = string.Join(", ", h.Value);
                    else foreach (var v in h.Value) headers.Add(new KeyValuePair<string, string>(h.Key, v));
                }
            }
            var uri = request.RequestUri;
            string toSign = StringToSign(request.Method.Method, md5, type, "", headers, uri.AbsolutePath, uri.Query);
            request.Headers.TryAddWithoutValidation("Authorization", "AWS " + accessKey + ":" + Signature(secret, toSign));
        }
    }

    /// <summary>The last handler before the wire: signs every request with SigV2 (the SDK, with anonymous credentials, signs nothing).</summary>
    internal sealed class S3SigV2Handler : DelegatingHandler
    {
        private readonly string _accessKey;
        private readonly byte[] _secret;

        public S3SigV2Handler(string accessKey, byte[] secret, HttpMessageHandler inner) : base(inner)
        {
            _accessKey = accessKey;
            _secret = secret;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            S3SigV2.Sign(request, _accessKey, _secret, DateTime.UtcNow);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
