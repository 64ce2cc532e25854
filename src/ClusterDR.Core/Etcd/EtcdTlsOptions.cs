using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// TLS for etcd client URLs: an extra CA bundle (PEM) that anchors the server chain, and a client
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
            var handler = new HttpClientHandler();
            var client = LoadClientCertificate();
            if (client != null)
            {
                handler.ClientCertificateOptions = ClientCertificateOption.Manual;
                handler.ClientCertificates.Add(client);
            }
            if (CaCertificatePath != null)
            {
                var anchors = LoadPemCertificates(CaCertificatePath);
                handler.ServerCertificateCustomValidationCallback = (msg, cert, chain, errors) => Validate(cert, errors, anchors);
            }
            return handler;
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

        private X509Certificate2 LoadClientCertificate()
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

        internal static X509Certificate2Collection LoadPemCertificates(string path)
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

        /// <summary>etcdctl flags for the same files on a node (paths as the node sees them).</summary>
        public IEnumerable<string> EtcdctlFlags()
        {
            if (CaCertificatePath != null) yield return "--cacert=" + CaCertificatePath;
            if (ClientCertificatePath != null) yield return "--cert=" + ClientCertificatePath;
            if (ClientKeyPath != null) yield return "--key=" + ClientKeyPath;
        }

        private static ClusterDrException Invalid(string why) =>
            new ClusterDrException(ErrorIds.TlsConfiguration, ErrorKind.InvalidArgument, "TLS settings are not usable: " + why + ".");
    }
}
