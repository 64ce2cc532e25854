using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ClusterDR.Transport
{
    /// <summary>
    /// An extra PEM bundle of CAs that anchors a server's certificate chain (etcd client URLs, DC/OS
    /// Admin Router), on top of the system's trust; host names must still match. HttpClients take it through
    /// <see cref="HttpClients.Handler"/>, ClusterDR's own HTTP/2 client through <see cref="H2Connection.OpenTls"/>.
    /// </summary>
    public static class CaBundle
    {
        /// <summary>The CAs of the bundle at <paramref name="caCertificatePath"/>; null for none (the system's trust only).</summary>
        public static X509Certificate2Collection Anchors(string caCertificatePath) => caCertificatePath == null ? null : Load(caCertificatePath);

        /// <summary>
        /// The same decision as <see cref="HttpClients.Handler"/>'s, for an SslStream's callback: without a bundle
        /// (<paramref name="anchors"/> null) the standard validation (no policy error at all), with one <see cref="Validate"/>.
        /// </summary>
        internal static bool Accepts(X509Certificate cert, SslPolicyErrors errors, X509Certificate2Collection anchors)
        {
            if (anchors == null || cert == null) return errors == SslPolicyErrors.None;
            return Validate(cert as X509Certificate2 ?? new X509Certificate2(cert), errors, anchors);
        }

        /// <summary>Accepts a server certificate whose chain ends in one of the bundle's CAs; names must still match.</summary>
        internal static bool Validate(X509Certificate2 cert, SslPolicyErrors errors, X509Certificate2Collection anchors)
        {
            if (errors == SslPolicyErrors.None) return true;
            if ((errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0) return false;
            using (var chain = new X509Chain())
            {
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
                chain.ChainPolicy.ExtraStore.AddRange(anchors);
                if (!chain.Build(cert)) return false;
                var root = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
                return anchors.Cast<X509Certificate2>().Any(a => a.Thumbprint == root.Thumbprint);
            }
        }

        internal static X509Certificate2Collection Load(string path)
        {
            if (!File.Exists(path)) throw Invalid($"the CA bundle '{path}' does not exist");
            var text = File.ReadAllText(path);
            var result = new X509Certificate2Collection();
            const string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
            int at = 0;
            while ((at = text.IndexOf(begin, at, StringComparison.Ordinal)) >= 0)
            {
                int stop = text.IndexOf(end, at, StringComparison.Ordinal);
                if (stop < 0) break;
                var b64 = text.Substring(at + begin.Length, stop - at - begin.Length);
                result.Add(new X509Certificate2(Convert.FromBase64String(string.Concat(b64.Where(c => !char.IsWhiteSpace(c))))));
                at = stop + end.Length;
            }
            if (result.Count == 0) throw Invalid($"the CA bundle '{path}' holds no PEM certificate");
            return result;
        }

        internal static ClusterDrException Invalid(string why) =>
            new ClusterDrException(ErrorIds.TlsConfiguration, ErrorKind.InvalidArgument, "TLS settings are not usable: " + why + ".");
    }
}
