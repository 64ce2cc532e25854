using System;
using System.IO.Compression;
using Encryption_ = ClusterDR.Encryption;

namespace ClusterDR.Backups
{
    /// <summary>How every Backup- operation writes its archive: the same two choices for each platform.</summary>
    public sealed class ArchiveOptions
    {
        public ArchiveFormat Format { get; set; } = ArchiveFormat.Zstd;

        /// <summary>
        /// Fastest by default for every kind: zstd level 1 shrinks cluster state (JSON, protobuf, raft logs) 5-8×
        /// at several hundred MB/s and passes incompressible data (registry layers, encrypted blobs) through at GB/s,
        /// so it never makes a backup slower than storing would.
        /// </summary>
        public CompressionLevel CompressionLevel { get; set; } = CompressionLevel.Fastest;

        /// <summary>kind-cluster-label-yyyyMMddTHHmmssZ with this format's extension.</summary>
        public string FileName(string kind, string cluster, string label, DateTime createdUtc) =>
            BackupArchiveWriter.DefaultFileName(kind, cluster, label, createdUtc, Format) + (Encryption == null ? "" : Encryption_.AgeArchive.Ext);

        /// <summary>What -WhatIf and -Verbose add to a backup step: how the archive is encrypted ("" when it is not). Never a key.</summary>
        public string EncryptionNote => Encryption == null ? "" :
            Encryption.UsesPassphrase ? ", encrypted (age) with a passphrase" : $", encrypted (age) to {Encryption.Recipients.Count} recipient(s)";

        /// <summary>Encrypts the archive (age) to these recipients or this passphrase; null: not encrypted.</summary>
        public Encryption_.AgeEncryption Encryption { get; set; }

        /// <summary>Where the archive goes: null for a local directory, else a store (New-ClusterBackupStore); the directory is then a folder in it.</summary>
        public Stores.BackupStore Store { get; set; }

        /// <summary>A writer for <paramref name="fileName"/> (from <see cref="FileName"/>) at this level, in <see cref="Store"/>.</summary>
        public BackupArchiveWriter CreateWriter(string directory, string fileName)
        {
            var writer = BackupArchiveWriter.Create(Store, directory, fileName);
            writer.CompressionLevel = CompressionLevel;
            writer.Encryption = Encryption;
            return writer;
        }
    }
}
