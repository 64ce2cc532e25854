using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using ClusterDR.Transport;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// TLS for etcd client URLs: an extra CA bundle (PEM, see <see cref="CaBundle"/>) that anchors the server chain, and a client
    /// certificate either as an X509Certificate2 (any PowerShell) or as PEM cert + key files
    /// (PowerShell 7, whose runtime can read PEM keys).
    /// </summary>
    public sealed class EtcdTlsOptions
    {
        public string CaCertificatePath { get; set; }
        public string ClientCertificatePath { get; set; }
        public string ClientKeyPath { get; set; }
        public X509Certificate2 ClientCertificate { get; set; }

        public bool IsEmpty => CaCertificatePath == null && ClientCertificatePath == null && ClientCertificate == null;

        internal HttpMessageHandler CreateHandler()
        {
            // The bundle first, then the certificate: unusable settings are reported in that order.
            var anchors = CaBundle.Anchors(CaCertificatePath);
            return HttpClients.Handler(anchors, LoadClientCertificate());
        }

        /// <summary>The client certificate with its private key (from ClientCertificate or the PEM files); null when none is set.</summary>
        internal X509Certificate2 LoadClientCertificate()
        {
            if (ClientCertificate != null) return ClientCertificate;
            if (ClientCertificatePath == null) return null;
            if (ClientKeyPath == null) throw Invalid("a client certificate file needs its key file (-ClientKeyPath)");
            // X509Certificate2.CreateFromPemFile exists on .NET 5+ (PowerShell 7); Windows PowerShell needs -ClientCertificate.
            var create = typeof(X509Certificate2).GetMethod("CreateFromPemFile", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(string) }, null);
            if (create == null) throw Invalid("this PowerShell cannot read PEM keys; pass the certificate as -ClientCertificate (for example from Get-PfxCertificate)");
            try
            {
                var pem = (X509Certificate2)create.Invoke(null, new object[] { ClientCertificatePath, ClientKeyPath });
                // An ephemeral key does not work for TLS client auth everywhere: round-trip through PKCS#12.
                return new X509Certificate2(pem.Export(X509ContentType.Pkcs12));
            }
            catch (TargetInvocationException ex)
            {
                throw Invalid($"cannot read the client certificate '{ClientCertificatePath}' with its key: {ex.InnerException?.Message}");
            }
        }

        internal bool HasClientCertificate => ClientCertificate != null || ClientCertificatePath != null;

        /// <summary>
        /// The server's TLS alert against this client's certificate (or its absence) somewhere in
        /// <paramref name="ex"/>'s chain, as OpenSSL words it ("sslv3 alert bad certificate", "tlsv13 alert
        /// certificate required", "alert unknown ca"); null for anything else. Under TLS 1.3 it arrives with the
        /// first read after the handshake, as an IOException whose message says only "decryption failed".
        /// </summary>
        internal static string ClientCertificateAlert(Exception ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
            {
                string m = e.Message ?? "";
                int at = m.IndexOf("alert ", StringComparison.Ordinal);
                if (at < 0) continue;
                string alert = m.Substring(at);
                if (alert.IndexOf("certificate", StringComparison.Ordinal) < 0 && alert.IndexOf("unknown ca", StringComparison.Ordinal) < 0
                    && alert.IndexOf("access denied", StringComparison.Ordinal) < 0)
                    continue;
                int colon = m.LastIndexOf(':', at);
                return m.Substring(colon + 1).Trim();
            }
            return null;
        }

        /// <summary>The error for a server that refused this client's certificate (see <see cref="ClientCertificateAlert"/>); null when <paramref name="ex"/> is not that.</summary>
        internal ClusterDrException ClientCertificateRefused(Uri endpoint, Exception ex)
        {
            string alert = ClientCertificateAlert(ex);
            if (alert == null) return null;
            string hint = HasClientCertificate
                ? "check that the client certificate is signed by a CA in etcd's --trusted-ca-file and is meant for client authentication"
                : "etcd requires a client certificate: give -ClientCertificatePath and -ClientKeyPath, or -ClientCertificate";
            return new ClusterDrException(ErrorIds.EndpointUnreachable, ErrorKind.SecurityError,
                $"etcd at {endpoint} is unreachable: TLS handshake failed: the server refused the client certificate ({alert}); {hint}.", endpoint.ToString(), ex);
        }

        /// <summary>etcdctl flags for the same files on a node (paths as the node sees them).</summary>
        public IEnumerable<string> EtcdctlFlags()
        {
            if (CaCertificatePath != null) yield return "--cacert=" + CaCertificatePath;
            if (ClientCertificatePath != null) yield return "--cert=" + ClientCertificatePath;
            if (ClientKeyPath != null) yield return "--key=" + ClientKeyPath;
        }

        private static ClusterDrException Invalid(string why) => CaBundle.Invalid(why);
    }
}
