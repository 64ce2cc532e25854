using System;
using System.Threading;

namespace ClusterDR.Stores
{
    /// <summary>
    /// An object store written in parts (S3 multipart, Azure staged blocks): a subclass gives the primitives, and
    /// <see cref="PartUploadStream"/> turns them into the one sequential, head-patchable upload the archive writer needs.
    /// </summary>
    public abstract class RemoteStore : BackupStore
    {
        /// <summary>
        /// Bytes per part. S3 wants every part but the last to be at least 5 MiB; the upload holds the first part and
        /// up to <see cref="PartsInFlight"/> more in memory, so memory is (2 + PartsInFlight) × PartSize whatever the size.
        /// </summary>
        public int PartSize { get; set; } = 8 * 1024 * 1024;

        /// <summary>Parts sent at once while the next one fills (the upload overlaps reading the cluster).</summary>
        public int PartsInFlight { get; set; } = 2;

        /// <summary>Creates the bucket or container when there is none (tests and first-time set-up; backups never create one).</summary>
        public void CreateIfMissing() => EnsureContainer(default);

        internal abstract void EnsureContainer(CancellationToken ct);

        /// <summary>Starts an upload of parts for <paramref name="key"/>; nothing is visible until Complete.</summary>
        internal abstract IMultipartUpload StartMultipart(string key, CancellationToken ct);

        internal override IStoreUpload BeginUpload(string key, CancellationToken ct) => new PartUploadStream(this, key, ct);

        /// <summary>A remote object cannot be rewritten when its manifest outgrows the space kept for it, so keep 1 MiB.</summary>
        internal const int DefaultManifestReserve = 1024 * 1024;
        internal override int ManifestReserve => DefaultManifestReserve;

        /// <summary>
        /// The key an operator means: the object's whole URI (a ClusterBackup's FullName) as it is, else a key under the
        /// store's prefix ("etcd/x.tar.zst" in a store made with -Prefix backups/ is backups/etcd/x.tar.zst).
        /// </summary>
        public string KeyOf(string pathOrUri)
        {
            string root = Describe("");
            if (pathOrUri.StartsWith(root, StringComparison.Ordinal)) return pathOrUri.Substring(root.Length);
            string rel = pathOrUri.Replace('\\', '/').TrimStart('/');
            if (rel == "." || rel == "./") rel = "";
            else if (rel.StartsWith("./", StringComparison.Ordinal)) rel = rel.Substring(2);
            return string.IsNullOrEmpty(Prefix) ? rel : Prefix + rel;
        }

        /// <summary>The objects directly in <paramref name="folder"/> (a key prefix ending in "/", or "" for the bucket's root).</summary>
        public System.Collections.Generic.IEnumerable<StoreObject> ListObjects(string folder, CancellationToken ct) => List(folder, false, ct);

        /// <summary>The key of <paramref name="name"/> in <paramref name="folder"/>, which is read as <see cref="KeyOf"/> reads a path (null or ".": the prefix).</summary>
        public override string Combine(string folder, string name)
        {
            string f = string.IsNullOrEmpty(folder) ? Prefix : KeyOf(folder);
            if (string.IsNullOrEmpty(name)) return f;
            if (string.IsNullOrEmpty(f)) return name;
            return f.EndsWith("/", StringComparison.Ordinal) ? f + name : f + "/" + name;
        }
    }

    /// <summary>
    /// One store upload in numbered parts (1-based). <see cref="UploadPart"/> may run for different parts at once, in
    /// any order; <see cref="Complete"/> publishes parts 1..count as one object, atomically and never over an object
    /// that is there (BackupExists). Dispose without Complete aborts (S3: AbortMultipartUpload; Azure: the blocks stay
    /// uncommitted, invisible, and expire) and never throws.
    /// </summary>
    internal interface IMultipartUpload : IDisposable
    {
        void UploadPart(int partNumber, byte[] data, int count, CancellationToken ct);
        void Complete(int partCount, CancellationToken ct);
    }
}
