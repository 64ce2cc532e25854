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
            var handler = CaBundle.CreateHandler(CaCertificatePath);
            var client = LoadClientCertificate();
            if (client != null)
            {
                handler.ClientCertificateOptions = ClientCertificateOption.Manual;
                handler.ClientCertificates.Add(client);
            }
            return handler;
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
