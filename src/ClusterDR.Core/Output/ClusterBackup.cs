using System;
using System.Collections;

namespace ClusterDR
{
    /// <summary>A backup archive as Get-ClusterBackup and the backup cmdlets return it (PowerShell type name ClusterDR.ClusterBackup).</summary>
    public sealed class ClusterBackup
    {
        public ClusterBackup(Stores.BackupLocation location, Backups.BackupManifest manifest, long sizeBytes)
        {
            Location = location;
            Manifest = manifest;
            SizeBytes = sizeBytes;
        }

        /// <summary>Full path of the archive, or its store URI (s3://bucket/key, https://account.blob.core.windows.net/container/key).</summary>
        public string Path => Location.Display;
        /// <summary>The same path or URI under FileInfo's name: restore/test/remove/copy cmdlets bind it to -LiteralPath, so a name with [ ] stays literal.</summary>
        public string FullName => Path;
        public string Name => Location.Name;
        /// <summary>
        /// The store the backup is in (a local file's is the store of plain paths, never null: PowerShell would not bind
        /// a null property, and the object would fall through to -Path as a string). Cmdlets bind it to -Store from the
        /// pipeline, with FullName.
        /// </summary>
        public Stores.BackupStore Store => Location.Store;
        /// <summary>The store and key the engine reads the archive from.</summary>
        public Stores.BackupLocation Location { get; }
        public string Kind => Manifest.Kind;
        public string Cluster => Manifest.Cluster;
        public string Label => Manifest.Label;
        public DateTime CreatedUtc => Manifest.CreatedUtc;
        public long SizeBytes { get; }
        public string[] SourceNodes => Manifest.SourceNodes?.ToArray() ?? new string[0];
        public string ToolVersion => Manifest.ToolVersion;
        public int FormatVersion => Manifest.FormatVersion;
        /// <summary>Platform facts as a hashtable, so scripts can write $b.Facts.revision.</summary>
        public Hashtable Facts => new Hashtable(Manifest.Facts ?? new System.Collections.Generic.Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        public Backups.ManifestFile[] Files => Manifest.Files?.ToArray() ?? new Backups.ManifestFile[0];
        /// <summary>
        /// Whether the archive is age-encrypted. Listed without its key, an encrypted backup shows only what its clear
        /// metadata (or, for one age encrypted by itself, its file name) says: no files, sources or facts.
        /// </summary>
        public bool Encrypted { get; internal set; }
        /// <summary>Null until Test-ClusterBackup ran; then whether every hash and the platform check passed.</summary>
        public bool? Verified { get; internal set; }
        public DateTime? VerifiedUtc { get; internal set; }
        public string Verification { get; internal set; }
        /// <summary>Null until Test-ClusterBackup -Rehearse ran; then what the throwaway server showed, check by check.</summary>
        public global::ClusterDR.Rehearsal.RehearsalResult Rehearsal { get; internal set; }
        internal Backups.BackupManifest Manifest { get; }

        public override string ToString() => Path;
    }
}
