using System;
using System.Management.Automation;
using System.Security;
using ClusterDR.Stores;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Names a place where backups live — an S3-compatible bucket (AWS, Ceph radosgw, MinIO), an Azure Blob container
    /// or a local directory — once, with its credential, for -Store and -DestinationStore of every other cmdlet.
    /// Nothing is contacted here: the first cmdlet that uses the store says whether it answers and accepts the credential.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "ClusterBackupStore", HelpUri = DocsUri.Base + "New-ClusterBackupStore.md", DefaultParameterSetName = S3Set)]
    [OutputType(typeof(BackupStore))]
    public sealed class NewClusterBackupStoreCommand : ClusterDrCmdlet
    {
        private const string S3Set = "S3", AzureSet = "AzureBlob", LocalSet = "Local";

        /// <summary>The S3 bucket.</summary>
        [Parameter(Mandatory = true, ParameterSetName = S3Set)]
        [ValidateNotNullOrEmpty]
        public string Bucket { get; set; }

        /// <summary>The S3 endpoint (http(s)://host:port of radosgw or MinIO), named as in AWS.Tools; leave it out for AWS in -Region.</summary>
        [Parameter(ParameterSetName = S3Set)]
        public Uri EndpointUrl { get; set; }

        /// <summary>The region the requests are signed for (SigV4); us-east-1 by default.</summary>
        [Parameter(ParameterSetName = S3Set)]
        public string Region { get; set; } = "us-east-1";

        /// <summary>Path-style addressing (http://host/bucket/key): on by default with -EndpointUrl, off for AWS (virtual-host).</summary>
        [Parameter(ParameterSetName = S3Set)]
        public SwitchParameter PathStyle { get; set; }

        /// <summary>The access key as user name and the secret key as password. Without it: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the profile.</summary>
        [Parameter(ParameterSetName = S3Set)]
        [Credential]
        public PSCredential Credential { get; set; }

        /// <summary>A temporary credential's session token (with -Credential).</summary>
        [Parameter(ParameterSetName = S3Set)]
        public SecureString SessionToken { get; set; }

        /// <summary>A profile of the shared AWS credentials file (default: AWS_PROFILE, then "default").</summary>
        [Parameter(ParameterSetName = S3Set)]
        public string ProfileName { get; set; }

        /// <summary>The Azure Blob container.</summary>
        [Parameter(Mandatory = true, ParameterSetName = AzureSet)]
        [ValidateNotNullOrEmpty]
        public string Container { get; set; }

        /// <summary>The storage account (its endpoint is https://&lt;account&gt;.blob.core.windows.net). Default: AZURE_STORAGE_ACCOUNT.</summary>
        [Parameter(ParameterSetName = AzureSet)]
        public string StorageAccount { get; set; }

        /// <summary>The Blob service endpoint, for another cloud, a private endpoint or Azurite (http://127.0.0.1:10000/devstoreaccount1).</summary>
        [Parameter(ParameterSetName = AzureSet)]
        public Uri BlobEndpoint { get; set; }

        /// <summary>A SAS token (account or container). Default: AZURE_STORAGE_SAS_TOKEN.</summary>
        [Parameter(ParameterSetName = AzureSet)]
        public SecureString SasToken { get; set; }

        /// <summary>The storage account key. Default: AZURE_STORAGE_KEY.</summary>
        [Parameter(ParameterSetName = AzureSet)]
        public SecureString AccountKey { get; set; }

        /// <summary>A Microsoft Entra bearer token for https://storage.azure.com, e.g. (Get-AzAccessToken -ResourceUrl https://storage.azure.com -AsSecureString).Token from a managed identity.</summary>
        [Parameter(ParameterSetName = AzureSet)]
        public SecureString AccessToken { get; set; }

        /// <summary>A key prefix (a folder) inside the bucket or container under which every backup of this store lives.</summary>
        [Parameter(ParameterSetName = S3Set)]
        [Parameter(ParameterSetName = AzureSet)]
        public string Prefix { get; set; }

        /// <summary>A local directory (or mounted share) as a store.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LocalSet)]
        public string Path { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            switch (ParameterSetName)
            {
                case LocalSet:
                    WriteObject(new LocalStore(FileSystemPath(Path)));
                    break;
                case AzureSet:
                    WriteObject(AzureBlobStore.Create(new AzureBlobStoreOptions
                    {
                        Container = Container, AccountName = StorageAccount, BlobEndpoint = BlobEndpoint, Prefix = Prefix,
                        SasToken = SasToken, AccountKey = AccountKey, AccessToken = AccessToken,
                    }));
                    break;
                default:
                    WriteObject(S3Store.Create(new S3StoreOptions
                    {
                        Bucket = Bucket, Endpoint = EndpointUrl, Region = Region, Prefix = Prefix,
                        ForcePathStyle = PathStyle.IsPresent || EndpointUrl != null,
                        AccessKey = Credential?.UserName, SecretKey = Credential?.Password, SessionToken = SessionToken, ProfileName = ProfileName,
                    }));
                    break;
            }
        });
    }
}
