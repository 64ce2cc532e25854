using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Xml;

namespace ClusterDR.Stores
{
    /// <summary>The one mapping of Azure Blob answers to the stores' ErrorIds; messages name the blob's URL without its query (never a SAS or key).</summary>
    internal static class AzureBlobErrors
    {
        /// <summary>Azure's error code: the x-ms-error-code header (HEAD answers have no body), else the body's &lt;Code&gt;.</summary>
        public static string Code(HttpResponseMessage r, string body)
        {
            if (r.Headers.TryGetValues("x-ms-error-code", out var v)) return v.FirstOrDefault();
            if (string.IsNullOrEmpty(body)) return null;
            try
            {
                var doc = new XmlDocument { XmlResolver = null };
                doc.LoadXml(body);
                return doc.SelectSingleNode("/Error/Code")?.InnerText;
            }
            catch (XmlException) { return null; }
        }

        public static ClusterDrException Map(AzureBlobStore store, HttpResponseMessage r, string what, string key)
        {
            string body = null;
            try { body = r.Content?.ReadAsStringAsync().GetAwaiter().GetResult(); } catch (Exception) { }
            string code = Code(r, body) ?? ((int)r.StatusCode).ToString();
            string target = key == null ? store.Location : store.Describe(key);
            int status = (int)r.StatusCode;
            if (code == "ContainerNotFound")
                return new ClusterDrException(ErrorIds.StoreNotFound, ErrorKind.ObjectNotFound,
                    $"The Azure Blob container {store.Container} does not exist at {store.BlobEndpoint}. Create it first (or check -Container and -StorageAccount).", store.Location, surfaceAsIs: true);
            if (status == 403 || status == 401 || code.StartsWith("Authentication", StringComparison.Ordinal) || code.StartsWith("Authorization", StringComparison.Ordinal) || code == "InvalidAuthenticationInfo")
                return new ClusterDrException(ErrorIds.StoreAccessDenied, ErrorKind.PermissionDenied,
                    $"{what} {target}: Azure Storage refused the credential ({code}). Check the SAS token (its permissions and expiry), the account key or the token's role assignment.",
                    target, surfaceAsIs: true);
            if (status == 507 || code == "AccountLimitExceeded" || code == "BlockCountExceedsLimit" || code == "RequestBodyTooLarge")
                return new ClusterDrException(ErrorIds.StoreQuotaExceeded, ErrorKind.WriteError,
                    $"{what} {target}: the store is full or over its limit ({code}); nothing was stored.", target, surfaceAsIs: true);
            return new ClusterDrException(ErrorIds.StoreError, ErrorKind.InvalidOperation,
                $"{what} {target}: Azure Storage answered {status} {code}.", target, surfaceAsIs: true);
        }

        public static ClusterDrException Unreachable(AzureBlobStore store, string what, string target, Exception ex) =>
            new ClusterDrException(ErrorIds.StoreUnreachable, ErrorKind.ConnectionError,
                $"{what} {target}: the Blob endpoint {store.BlobEndpoint} cannot be reached ({Transport.HttpErrors.Why(ex)}).", target, ex, surfaceAsIs: true);
    }
}
