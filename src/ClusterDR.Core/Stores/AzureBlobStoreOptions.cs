using System;
using System.Security;

namespace ClusterDR.Stores
{
    /// <summary>Where an Azure Blob store is and how to authorize (New-ClusterBackupStore -Container); exactly one credential.</summary>
    public sealed class AzureBlobStoreOptions
    {
        /// <summary>The Blob service endpoint; default https://&lt;account&gt;.blob.core.windows.net (Azurite: http://127.0.0.1:10000/devstoreaccount1).</summary>
        public Uri BlobEndpoint { get; set; }
        public string AccountName { get; set; }
        public string Container { get; set; }
        public string Prefix { get; set; }
        public SecureString SasToken { get; set; }
        public SecureString AccountKey { get; set; }
        /// <summary>A Microsoft Entra bearer token for https://storage.azure.com (a managed identity's, in a runbook).</summary>
        public SecureString AccessToken { get; set; }
        /// <summary>Certificates to trust besides the system's, for a private endpoint (or an emulator) with its own CA.</summary>
        public System.Security.Cryptography.X509Certificates.X509Certificate2Collection TrustedCertificates { get; set; }
    }
}
