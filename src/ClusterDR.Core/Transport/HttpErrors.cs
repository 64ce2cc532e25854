using System;
using System.IO;
using System.Net.Http;

namespace ClusterDR.Transport
{
    /// <summary>
    /// What a failed HTTP request means, in operator terms, for every service the engine calls: no answer is
    /// <see cref="ErrorIds.EndpointUnreachable"/>; 401 and 403 are <see cref="ErrorIds.Unauthorized"/> and
    /// <see cref="ErrorIds.Forbidden"/> where the service says which credential is missing or too weak; any other
    /// status is <see cref="ErrorIds.EndpointError"/>. Each message names the service and its URL. Ids that only
    /// one platform has (the DC/OS backup service's lock, <see cref="ErrorIds.BackupServiceBusy"/>; its 400 for an
    /// unknown id) are decided by that platform before it falls back to <see cref="Status"/>.
    /// </summary>
    internal static class HttpErrors
    {
        /// <summary>How HttpClient reports a request without an answer: no connection, a timeout, a broken stream.</summary>
        public static bool NoAnswer(Exception ex) => ex is HttpRequestException || ex is OperationCanceledException || ex is IOException;

        /// <summary>Why there was no answer, as the operator reads it.</summary>
        public static string Why(Exception ex) => ex is OperationCanceledException ? "no answer in time" : ex.InnerException?.Message ?? ex.Message;

        /// <summary>
        /// "<paramref name="service"/> at <paramref name="url"/> is unreachable: <paramref name="why"/> (default <see cref="Why"/>)".
        /// <paramref name="service"/> is named as it stands in a sentence ("etcd", "Exhibitor", "the DC/OS backup service").
        /// </summary>
        public static ClusterDrException Unreachable(string service, Uri url, Exception ex, string why = null, ErrorKind kind = ErrorKind.ConnectionError) =>
            new ClusterDrException(ErrorIds.EndpointUnreachable, kind, $"{Sentence(service)} at {url} is unreachable: {why ?? Why(ex)}", url.ToString(), ex);

        /// <summary>
        /// The error for status <paramref name="code"/> from <paramref name="service"/> at <paramref name="url"/>:
        /// "[<paramref name="what"/> failed: ]service at url answered code[ reason][: detail | .]".
        /// <paramref name="unauthorized"/> and <paramref name="forbidden"/> say what the credential lacks; given, 401 and 403
        /// have their own ids (shown as they are); not given, they are an EndpointError of kind PermissionDenied.
        /// </summary>
        public static ClusterDrException Status(string service, Uri url, int code, string detail = null, string what = null,
            string unauthorized = null, string forbidden = null, string reason = null)
        {
            string lead = (what == null ? Sentence(service) : $"{what} failed: {service}") + $" at {url} answered {code}";
            if (code == 401 && unauthorized != null)
                return new ClusterDrException(ErrorIds.Unauthorized, ErrorKind.PermissionDenied, $"{lead}: {unauthorized}.", url.ToString(), surfaceAsIs: true);
            if (code == 403 && forbidden != null)
                return new ClusterDrException(ErrorIds.Forbidden, ErrorKind.PermissionDenied, $"{lead}: {forbidden}.", url.ToString(), surfaceAsIs: true);
            var kind = code == 401 || code == 403 ? ErrorKind.PermissionDenied : ErrorKind.InvalidOperation;
            return new ClusterDrException(ErrorIds.EndpointError, kind,
                lead + (reason == null ? "" : " " + reason) + (detail == null ? "." : ": " + detail), url.ToString());
        }

        /// <summary>A service's name at the start of a sentence: a leading article capitalised, a product name as it is spelled ("etcd").</summary>
        private static string Sentence(string service) =>
            service.StartsWith("the ", StringComparison.Ordinal) ? "The" + service.Substring(3) : service;
    }
}
