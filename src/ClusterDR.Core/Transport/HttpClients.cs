using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Threading;

namespace ClusterDR.Transport
{
    /// <summary>
    /// Every HttpClient of the engine is built here: etcd's JSON gateway and its HTTP/2 snapshot, the DC/OS backup
    /// service, Exhibitor, classic Swarm's /info, ZooKeeper's AdminServer and the S3 gateway (AWSSDK, through
    /// <c>Deis/S3HttpClientFactory</c>). A handler trusts the system's CAs and, with a bundle, its CAs too
    /// (<see cref="CaBundle"/>; an untrusted certificate is refused, never retried without the check), presents a
    /// client certificate when given one, and decompresses nothing. ClusterDR's own HTTP/2 client for large
    /// downloads is <see cref="H2Call"/>; what a failed request means to the operator is <see cref="HttpErrors"/>.
    /// </summary>
    internal static class HttpClients
    {
        /// <summary>
        /// A handler that also trusts <paramref name="anchors"/> (<see cref="CaBundle.Anchors"/>; null: the system's
        /// trust only) and presents <paramref name="clientCertificate"/> (null: none).
        /// </summary>
        public static HttpClientHandler Handler(X509Certificate2Collection anchors = null, X509Certificate2 clientCertificate = null)
        {
            var handler = new HttpClientHandler();
            if (anchors != null)
                handler.ServerCertificateCustomValidationCallback = (msg, cert, chain, errors) => CaBundle.Validate(cert, errors, anchors);
            if (clientCertificate != null)
            {
                handler.ClientCertificateOptions = ClientCertificateOption.Manual;
                handler.ClientCertificates.Add(clientCertificate);
            }
            return handler;
        }

        /// <summary>
        /// A handler for a signed wire (S3): what is sent is what was signed, so no redirect is followed, nothing is
        /// decompressed and no cookie is added; <paramref name="connections"/> at once to one server (.NET Framework
        /// would otherwise allow two); through <paramref name="proxy"/> when there is one.
        /// </summary>
        public static HttpClientHandler WireHandler(int connections, IWebProxy proxy, X509Certificate2Collection anchors = null)
        {
            var handler = new HttpClientHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, UseCookies = false };
            if (anchors != null)
                handler.ServerCertificateCustomValidationCallback = (msg, cert, chain, errors) => CaBundle.Validate(cert, errors, anchors);
            try { handler.MaxConnectionsPerServer = connections; } catch (PlatformNotSupportedException) { }
            if (proxy != null) { handler.Proxy = proxy; handler.UseProxy = true; }
            return handler;
        }

        /// <summary>
        /// A client over <paramref name="handler"/> (null: <see cref="Handler"/> with the system's trust) that gives up
        /// after <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/> for a stream of unknown length).
        /// </summary>
        public static HttpClient Client(TimeSpan timeout, HttpMessageHandler handler = null, Uri baseAddress = null, bool disposeHandler = true)
        {
            var client = new HttpClient(handler ?? Handler(), handler == null || disposeHandler) { Timeout = timeout };
            if (baseAddress != null) client.BaseAddress = baseAddress;
            return client;
        }

        private static readonly PropertyInfo VersionPolicy = typeof(HttpRequestMessage).GetProperty("VersionPolicy");
        private static readonly PropertyInfo Trailers = typeof(HttpResponseMessage).GetProperty("TrailingHeaders");

        /// <summary>HttpClient speaks HTTP/2 with trailers on this runtime (.NET 5+; .NET Framework does not).</summary>
        public static bool Http2Supported => VersionPolicy != null && Trailers != null;

        /// <summary>
        /// A request that goes out as HTTP/2 or fails, never downgraded (RequestVersionExact): HttpRequestMessage.VersionPolicy,
        /// which netstandard2.0 does not declare, set by reflection. Only where <see cref="Http2Supported"/>.
        /// </summary>
        public static HttpRequestMessage Http2Request(HttpMethod method, string path)
        {
            var request = new HttpRequestMessage(method, path) { Version = new Version(2, 0) };
            VersionPolicy.SetValue(request, Enum.ToObject(VersionPolicy.PropertyType, 2)); // RequestVersionExact
            return request;
        }

        /// <summary>The trailers of an HTTP/2 response, read after its body (HttpResponseMessage.TrailingHeaders, by reflection).</summary>
        public static HttpHeaders TrailingHeaders(HttpResponseMessage response) => (HttpHeaders)Trailers.GetValue(response);

        /// <summary>
        /// Sends <paramref name="request"/> with a -Debug line (<see cref="DebugLog.Http"/>) and blocks for the answer.
        /// Cancellation by the user stays an <see cref="OperationCanceledException"/>; a request that got no answer
        /// (<see cref="HttpErrors.NoAnswer"/>) becomes <paramref name="unreachable"/>'s error. Statuses are the caller's.
        /// </summary>
        public static HttpResponseMessage Send(HttpClient client, HttpRequestMessage request, HttpCompletionOption option, CancellationToken ct, Func<Exception, Exception> unreachable)
        {
            DebugLog.Http(request.Method.Method, request.RequestUri.IsAbsoluteUri ? request.RequestUri : new Uri(client.BaseAddress, request.RequestUri));
            try { return client.SendAsync(request, option, Safety.CancellationScope.Effective(ct)).ConfigureAwait(false).GetAwaiter().GetResult(); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception ex) when (HttpErrors.NoAnswer(ex)) { throw unreachable(ex); }
        }
    }
}
