using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ClusterDR.Backups
{
    /// <summary>Get-ClusterBackup's engine: finds archives and reads their manifests only.</summary>
    public static class BackupCatalog
    {
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

            var found = new List<ClusterBackup>();
            foreach (var f in files)
            {
                try
                {
                    var b = BackupArchiveReader.ReadListed(f);
                    if (kind != null && !string.Equals(b.Kind, kind, StringComparison.OrdinalIgnoreCase)) continue;
                    if (cluster != null && !string.Equals(b.Cluster, cluster, StringComparison.OrdinalIgnoreCase)) continue;
                    found.Add(b);
                }
                catch (ClusterDrException ex)
                {
                    skipped?.Invoke(f, ex);
                }
            }
            return found.OrderByDescending(b => b.CreatedUtc).ThenBy(b => b.Path, StringComparer.Ordinal).ToList();
        }

        /// <summary>Deletes one backup archive after proving it is one (a manifest reads).</summary>
        public static void Remove(string path)
        {
            var b = BackupArchiveReader.ReadBackup(path);
            File.Delete(b.Path);
        }
    }
}
