using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace ClusterDR.Stores
{
    /// <summary>
    /// Where backups live: a local directory, an S3 bucket or an Azure Blob container (PowerShell type name
    /// ClusterDR.BackupStore). Made once (New-ClusterBackupStore) and given to every cmdlet with -Store; the archive
    /// layer reads and writes through these few primitives only, so every store gets the same archive, the same
    /// verification and the same atomic publish. Keys are full object keys (the store's prefix included); a local
    /// store's keys are full paths. A store never prints its credentials: ToString, Location and every message
    /// name the bucket or container, not the key that opens it.
    /// </summary>
    public abstract class BackupStore
    {
        /// <summary>"Local", "S3" or "AzureBlob".</summary>
        public abstract string Kind { get; }

        /// <summary>The store's root as an operator writes it: s3://bucket/prefix, https://account.blob.core.windows.net/container/prefix, /backups.</summary>
        public abstract string Location { get; }

        /// <summary>The key prefix every backup of this store has ("" for none); for a local store, its directory.</summary>
        public abstract string Prefix { get; }

        /// <summary>How a key is shown: the store's URI of the object (a local store: the path).</summary>
        public abstract string Describe(string key);

        /// <summary>The key of <paramref name="name"/> inside <paramref name="folder"/> (a sub-prefix or directory; null for the root).</summary>
        public abstract string Combine(string folder, string name);

        /// <summary>The object's name without its folders.</summary>
        public virtual string NameOf(string key) { int i = key.LastIndexOf('/'); return i < 0 ? key : key.Substring(i + 1); }

        /// <summary>Objects under <paramref name="prefix"/> (a key prefix ending in "/", or null for the store's prefix); only one level unless <paramref name="recurse"/>.</summary>
        internal abstract IEnumerable<StoreObject> List(string prefix, bool recurse, CancellationToken ct);

        /// <summary>The object's length and time, or null when there is none at <paramref name="key"/>.</summary>
        internal abstract StoreObject Stat(string key, CancellationToken ct);

        /// <summary>
        /// A sequential read of <paramref name="count"/> bytes from <paramref name="offset"/> (null: to the end).
        /// A missing object is BackupNotFound; the stream's own failures are IOExceptions the archive reader names.
        /// </summary>
        internal abstract Stream OpenRead(string key, long offset, long? count, CancellationToken ct);

        /// <summary>
        /// A new object at <paramref name="key"/>, written once from the front. Nothing is visible at the key (to
        /// Stat, List, OpenRead) until <see cref="IStoreUpload.Commit"/>; disposing an uncommitted upload abandons it.
        /// </summary>
        internal abstract IStoreUpload BeginUpload(string key, CancellationToken ct);

        internal abstract void Delete(string key, CancellationToken ct);

        /// <summary>
        /// Bytes the archive writer keeps for manifest.json at the front of a single-pass archive. A local file can be
        /// rewritten when the manifest outgrows it; a remote object cannot, so remote stores keep more.
        /// </summary>
        internal virtual int ManifestReserve => 64 * 1024;

        /// <summary>Whether a staging folder can sit beside the destination (a local store); remote stores stage in the temp directory.</summary>
        internal virtual string StagingDirectory(string key) => Path.GetTempPath();

        public override string ToString() => Location;
    }

    /// <summary>One object of a store, as a listing sees it.</summary>
    public sealed class StoreObject
    {
        public StoreObject(string key, long length, System.DateTime lastModifiedUtc) { Key = key; Length = length; LastModifiedUtc = lastModifiedUtc; }
        public string Key { get; }
        public long Length { get; }
        public System.DateTime LastModifiedUtc { get; }
    }

    /// <summary>
    /// One object being written. <see cref="Stream"/> is written sequentially; it may also seek back into its first
    /// <see cref="PatchableLength"/> bytes (and back to its end) so the archive can patch its head in place.
    /// <see cref="Commit"/> publishes it atomically and never over an existing object (BackupExists); Dispose without
    /// Commit abandons it, leaving nothing a listing shows.
    /// </summary>
    internal interface IStoreUpload : System.IDisposable
    {
        Stream Stream { get; }
        long PatchableLength { get; }
        void Commit(CancellationToken ct);
    }
}
