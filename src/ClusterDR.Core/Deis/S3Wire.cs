using System;
using System.Linq;
using System.Net.Http;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using ClusterDR.Transport;

namespace ClusterDR.Deis
{
    /// <summary>
    /// S3 object keys may hold "." and ".." path segments ("a/./b", "a/../b", "x/."); S3 does not normalize
    /// them, but System.Uri, which HttpClient sends, collapses them (and unescapes %2E before it does), so
    /// the request would name another object ("a/b"), and under SigV4 a path other than the one signed. The
    /// SDK's .NET 8 build keeps such paths; the netstandard2.0 build the module ships does not. Percent-encoding
    /// the dots does not help (System.Uri unescapes %2E, then collapses): the path goes out as the SDK composed
    /// and signed it, literal dots and all, which radosgw takes as the key under both signatures.
    /// </summary>
    internal static class S3WirePath
    {
        private static readonly Func<string, Uri> Verbatim = VerbatimFactory();

        /// <summary>Whether this runtime can send a path with dot segments unchanged (.NET 6 and later).</summary>
        public static bool CanKeepDotSegments => Verbatim != null;

        /// <summary>Whether a path (escaped or not) has a "." or ".." segment that System.Uri would collapse.</summary>
        public static bool HasDotSegment(string path) =>
            (path ?? "").Split('/').Select(s => s.Replace("%2E", ".").Replace("%2e", ".")).Any(s => s == "." || s == "..");

        /// <summary>The request URI with the path as the SDK composed (and signed) it, when System.Uri collapsed its dot segments.</summary>
        internal static Uri AsComposed(Uri uri)
        {
            string original = uri.OriginalString;
            int start = original.IndexOf("://", StringComparison.Ordinal);
            start = start < 0 ? 0 : original.IndexOf('/', start + 3);
            if (start < 0) return uri;
            int q = original.IndexOf('?', start);
            string path = q < 0 ? original.Substring(start) : original.Substring(start, q - start);
            if (!HasDotSegment(path)) return uri;
            if (Verbatim == null)
                throw new ClusterDrException(ErrorIds.S3Error, ErrorKind.NotImplemented,
                    $"The S3 object path '{Uri.UnescapeDataString(path)}' has a '.' or '..' segment, which this .NET runtime cannot send unchanged (it would name another object). Run the command from PowerShell 7.",
                    Uri.UnescapeDataString(path), surfaceAsIs: true);
            return Verbatim(original);
        }

        // UriCreationOptions.DangerousDisablePathAndQueryCanonicalization (.NET 6+), found at run time: the module targets netstandard2.0.
        private static Func<string, Uri> VerbatimFactory()
        {
            var optionsType = typeof(Uri).Assembly.GetType("System.UriCreationOptions");
            var disable = optionsType?.GetProperty("DangerousDisablePathAndQueryCanonicalization");
            var ctor = optionsType == null ? null : typeof(Uri).GetConstructor(new[] { typeof(string), optionsType.MakeByRefType() });
            if (disable == null || ctor == null) return null;
            return s =>
            {
                object options = Activator.CreateInstance(optionsType);
                disable.SetValue(options, true);
                try { return (Uri)ctor.Invoke(new[] { s, options }); }
                catch (TargetInvocationException ex) when (ex.InnerException != null) { throw ex.InnerException; }
            };
        }
    }

    /// <summary>Puts back the path the SDK composed and signed when System.Uri collapsed its dot segments (see <see cref="S3WirePath"/>).</summary>
    internal sealed class S3WirePathHandler : DelegatingHandler
    {
        public S3WirePathHandler(HttpMessageHandler inner) : base(inner) { }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.RequestUri = S3WirePath.AsComposed(request.RequestUri);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>
    /// Gives the S3 client HttpClients whose pipeline keeps object paths as composed (<see cref="S3WirePathHandler"/>)
    /// and, for -SignatureVersion 2, ends in <see cref="S3SigV2Handler"/>; cached and disposed with the client. The SDK
    /// asks for clients through its own factory type; the handler and client come from Transport's <see cref="HttpClients"/>.
    /// </summary>
    internal sealed class S3HttpClientFactory : HttpClientFactory
    {
        private readonly string _accessKey;
        private readonly byte[] _secret;
        private readonly int _connections;

        /// <param name="secret">The SigV2 secret; null when the SDK signs (SigV4).</param>
        public S3HttpClientFactory(string accessKey, byte[] secret, int connections)
        {
            _accessKey = accessKey;
            _secret = secret;
            _connections = connections;
        }

        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            // As many connections as -Parallelism asks for (.NET Framework would otherwise allow two per server).
            var inner = HttpClients.WireHandler(_connections, clientConfig.GetWebProxy());
            HttpMessageHandler wire = _secret == null ? (HttpMessageHandler)inner : new S3SigV2Handler(_accessKey, _secret, inner);
            return HttpClients.Client(clientConfig.Timeout ?? TimeSpan.FromMinutes(10), new S3WirePathHandler(wire));
        }

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;
        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;
        public override string GetConfigUniqueString(IClientConfig clientConfig) => null;
    }
}
