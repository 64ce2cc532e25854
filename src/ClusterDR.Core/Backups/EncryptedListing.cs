using System;
using System.Globalization;
using System.Linq;
using ClusterDR.Encryption;

namespace ClusterDR.Backups
{
    /// <summary>
    /// How an encrypted backup lists without its key: from ClusterDR's clear metadata stanza (kind, cluster, label,
    /// creation time, length), or, in a file the age tool encrypted from one of ours (and in every passphrase backup,
    /// since age allows no stanza beside a passphrase's), from its file name: kind, creation time and what lies
    /// between them as the cluster.
    /// </summary>
    internal static class EncryptedListing
    {
        private static readonly string[] Kinds = { Deis.DeisStore.Kind, Etcd.EtcdBackup.Kind, Swarm.SwarmBackup.Kind, ZooKeeper.ZkBackup.Kind, "dcos" };

        public static ClusterBackup Read(ArchiveFile archive)
        {
            var age = archive.Age;
            string d = archive.Display;
            BackupManifest manifest;
            if (age.Clear != null)
            {
                if (age.PlainLength != age.Clear.Length)
                    throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData,
                        $"'{d}' is shorter (or longer) than its clear metadata says: the encrypted file was cut short or damaged, so it is not a usable backup.", d);
                manifest = new BackupManifest { Kind = age.Clear.Kind, Cluster = age.Clear.Cluster, Label = age.Clear.Label, CreatedUtc = age.Clear.CreatedUtc, ToolVersion = age.Clear.ToolVersion };
            }
            else
            {
                manifest = FromName(archive.Location.Name)
                    ?? throw new ClusterDrException(ErrorIds.ManifestInvalid, ErrorKind.InvalidData,
                        $"'{d}' is age-encrypted without ClusterDR's clear metadata, and its name is not one ClusterDR gives, so nothing says what it holds without the key. Test-ClusterBackup with its key reads it.", d);
                if (age.PlainLength < 0)
                    throw new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{d}' ends in the middle of its encrypted data (cut short), so it is not a usable backup.", d);
            }
            manifest.FormatVersion = 0; // unknown until decrypted
            return new ClusterBackup(archive.Location, manifest, archive.FileLength) { Encrypted = true };
        }

        /// <summary>kind-middle-yyyyMMddTHHmmssZ.tar.zst.age → kind, cluster = middle, created; null when the name is not of that shape.</summary>
        internal static BackupManifest FromName(string name)
        {
            string n = name;
            foreach (var ext in new[] { ".age", ZstdCodec.Ext, GzipCodec.Ext })
                if (n.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) n = n.Substring(0, n.Length - ext.Length);
            string kind = Kinds.FirstOrDefault(k => n.StartsWith(k + "-", StringComparison.Ordinal));
            int dash = n.LastIndexOf('-');
            if (kind == null || dash < kind.Length) return null;
            if (!DateTime.TryParseExact(n.Substring(dash + 1), "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var created)) return null;
            string middle = dash > kind.Length ? n.Substring(kind.Length + 1, dash - kind.Length - 1) : null;
            return new BackupManifest { Kind = kind, Cluster = string.IsNullOrEmpty(middle) ? null : middle, CreatedUtc = DateTime.SpecifyKind(created, DateTimeKind.Utc) };
        }
    }
}
