using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;

namespace ClusterDR.Stores
{
    /// <summary>
    /// Azure Storage's Shared Key signature of one request (the 2009-09-19+ string to sign): verb, the standard headers,
    /// the x-ms-* headers sorted, then /account + the path + the query parameters sorted. The key stays in a byte array.
    /// </summary>
    internal sealed class AzureSharedKey
    {
        private readonly string _account;
        private readonly byte[] _key;

        public AzureSharedKey(string account, byte[] key) { _account = account; _key = key; }

        public void Sign(HttpRequestMessage request)
        {
            var content = request.Content;
            long? length = content?.Headers.ContentLength;
            string H(string name) => content != null && content.Headers.TryGetValues(name, out var v) ? string.Join(",", v) : request.Headers.TryGetValues(name, out var w) ? string.Join(",", w) : "";
            var xms = request.Headers.Where(h => h.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                .Select(h => new KeyValuePair<string, string>(h.Key.ToLowerInvariant(), string.Join(",", h.Value).Trim()))
                .OrderBy(h => h.Key, StringComparer.Ordinal);
            var sb = new StringBuilder();
            sb.Append(request.Method.Method).Append('\n');
            sb.Append(H("Content-Encoding")).Append('\n');
            sb.Append(H("Content-Language")).Append('\n');
            sb.Append(length > 0 ? length.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "").Append('\n');
            sb.Append(H("Content-MD5")).Append('\n');
            sb.Append(H("Content-Type")).Append('\n');
            sb.Append('\n'); // Date: x-ms-date is sent instead
            sb.Append(H("If-Modified-Since")).Append('\n');
            sb.Append(H("If-Match")).Append('\n');
            sb.Append(H("If-None-Match")).Append('\n');
            sb.Append(H("If-Unmodified-Since")).Append('\n');
            sb.Append('\n'); // Range: x-ms-range is sent instead
            foreach (var h in xms) sb.Append(h.Key).Append(':').Append(h.Value).Append('\n');
            sb.Append('/').Append(_account).Append(request.RequestUri.AbsolutePath);
            var query = (request.RequestUri.Query ?? "").TrimStart('?').Split(new[] { '&' }, StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split(new[] { '=' }, 2))
                .GroupBy(p => Uri.UnescapeDataString(p[0]).ToLowerInvariant())
                .OrderBy(g => g.Key, StringComparer.Ordinal);
            foreach (var g in query)
                sb.Append('\n').Append(g.Key).Append(':').Append(string.Join(",", g.Select(p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "").OrderBy(v => v, StringComparer.Ordinal)));
            using (var hmac = new HMACSHA256(_key))
            {
                string signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(sb.ToString())));
                request.Headers.TryAddWithoutValidation("Authorization", "SharedKey " + _account + ":" + signature);
            }
        }
    }
}
