using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ClusterDR.Stores;

namespace ClusterDR.Backups
{
    /// <summary>Get-ClusterBackup's engine: finds archives and reads their manifests only.</summary>
    public static class BackupCatalog
    {
        /// <summary>Manifests read at once from a remote store: each is a ranged GET or two, so a listing of thousands stays quick.</summary>
        internal const int ParallelReads = 8;

        /// <summary>
        /// Lists backups under a directory (or one file), newest first. Files that are not ClusterDR
        /// backups, and backups cut short (ArchiveCorrupt), are reported through <paramref name="skipped"/> and left out.
        /// </summary>
        public static IList<ClusterBackup> List(string path, bool recurse, string kind, string cluster, Action<string, ClusterDrException> skipped)
        {
            string full = Path.GetFullPath(path);
            IEnumerable<string> files;
            if (File.Exists(full)) files = new[] { full };
            else if (Directory.Exists(full))
                files = ArchiveCodec.ListPatterns.SelectMany(p => Directory.EnumerateFiles(full, p, recurse ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly));
            else throw new ClusterDrException(ErrorIds.BackupNotFound, ErrorKind.ObjectNotFound, $"No backup file or directory at '{full}'.", full);
            return Read(files.Select(f => (BackupLocation)f), 1, kind, cluster, skipped);
        }

        /// <summary>
        /// Lists the backups of a store under <paramref name="folder"/> (null: the store's prefix), or the one backup
        /// at that key. Only objects whose names end in .tar.zst or .tar.gz are opened, and of those only the manifest
        /// and the last bytes are read.
        /// </summary>
        public static IList<ClusterBackup> List(BackupStore store, string folder, bool recurse, string kind, string cluster, Action<string, ClusterDrException> skipped, CancellationToken ct = default)
        {
            if (store == null || store is LocalStore) return List(store == null ? folder : store.Combine(folder, "."), recurse, kind, cluster, skipped);
            string prefix = string.IsNullOrEmpty(folder) || folder == "." ? store.Prefix : store.Combine(folder, "");
            if (!prefix.EndsWith("/", StringComparison.Ordinal) && prefix.Length > 0 && IsArchiveName(prefix) && store.Stat(prefix, ct) != null)
                return Read(new[] { new BackupLocation(store, prefix) }, 1, kind, cluster, skipped);
            if (prefix.Length > 0 && !prefix.EndsWith("/", StringComparison.Ordinal)) prefix += "/";
            var keys = store.List(prefix, recurse, ct).Where(o => IsArchiveName(o.Key)).Select(o => new BackupLocation(store, o.Key));
            return Read(keys, ParallelReads, kind, cluster, skipped);
        }

        /// <summary>Whether a file or key is named like an archive (what a listing opens).</summary>
        public static bool IsArchiveName(string name)
        {
            if (name.EndsWith(Encryption.AgeArchive.Ext, StringComparison.OrdinalIgnoreCase)) name = name.Substring(0, name.Length - Encryption.AgeArchive.Ext.Length);
            return name.EndsWith(ZstdCodec.Ext, StringComparison.OrdinalIgnoreCase) || name.EndsWith(GzipCodec.Ext, StringComparison.OrdinalIgnoreCase);
        }

        private static IList<ClusterBackup> Read(IEnumerable<BackupLocation> locations, int parallel, string kind, string cluster, Action<string, ClusterDrException> skipped)
        {
            var all = locations.ToList();
            var read = new (ClusterBackup Backup, ClusterDrException Error)[all.Count];
            // The callback runs on this thread, in listing order, whatever the reads' order.
            Parallel.For(0, all.Count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, i =>
            {
                try { read[i] = (BackupArchiveReader.ReadListed(all[i]), null); }
                catch (ClusterDrException ex) { read[i] = (null, ex); }
                catch (IOException ex) { read[i] = (null, new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{all[i].Display}' could not be read: {ex.Message}", all[i].Display, ex)); }
            });
            var found = new List<ClusterBackup>();
            for (int i = 0; i < all.Count; i++)
            {
                var (b, ex) = read[i];
                if (ex != null)
                {
                    // A store that refuses or cannot be reached is the caller's error, not a skipped file.
                    if (IsStoreError(ex)) throw ex;
                    skipped?.Invoke(all[i].Display, ex);
                    continue;
                }
                if (kind != null && !string.Equals(b.Kind, kind, StringComparison.OrdinalIgnoreCase)) continue;
                if (cluster != null && !string.Equals(b.Cluster, cluster, StringComparison.OrdinalIgnoreCase)) continue;
                found.Add(b);
            }
            return found.OrderByDescending(b => b.CreatedUtc).ThenBy(b => b.Path, StringComparer.Ordinal).ToList();
        }

        internal static bool IsStoreError(ClusterDrException ex) =>
            ex.ErrorId == ErrorIds.StoreAccessDenied || ex.ErrorId == ErrorIds.StoreNotFound || ex.ErrorId == ErrorIds.StoreUnreachable || ex.ErrorId == ErrorIds.StoreCredentialsMissing;

        /// <summary>Deletes one backup archive after proving it is one (a manifest reads).</summary>
        public static void Remove(BackupLocation location)
        {
            var b = BackupArchiveReader.ReadBackup(location);
            if (b.Location.IsLocal) File.Delete(b.Location.Key);
            else b.Location.Store.Delete(b.Location.Key, default);
        }
    }
}
