using System;
using System.Security;

namespace ClusterDR.Stores
{
    /// <summary>Where an S3 store is and how to sign for it (New-ClusterBackupStore -Bucket).</summary>
    public sealed class S3StoreOptions
    {
        /// <summary>The endpoint (radosgw, MinIO, another cloud); null for AWS in <see cref="Region"/>.</summary>
        public Uri Endpoint { get; set; }
        public string Region { get; set; } = "us-east-1";
        public string Bucket { get; set; }
        /// <summary>A key prefix under which every backup of the store lives ("" for the bucket's root).</summary>
        public string Prefix { get; set; }
        /// <summary>http://host/bucket/key rather than http://bucket.host/key.</summary>
        public bool ForcePathStyle { get; set; }
        public string AccessKey { get; set; }
        public SecureString SecretKey { get; set; }
        public SecureString SessionToken { get; set; }
        /// <summary>A profile of the shared credentials file, when no key is given.</summary>
        public string ProfileName { get; set; }
    }
}
