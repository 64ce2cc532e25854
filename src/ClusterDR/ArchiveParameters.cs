using System.IO.Compression;
using ClusterDR.Backups;

namespace ClusterDR
{
    /// <summary>
    /// -ArchiveFormat and -CompressionLevel, which every Backup- cmdlet takes with the same meaning. The format is a
    /// string (ValidateSet) because a public cmdlet type may not hold an engine value type (it loads before lib/).
    /// </summary>
    internal static class ArchiveParameters
    {
        /// <summary>A Backup- cmdlet's -Path: a directory, or with -Store a folder of the store ("." for its root).</summary>
        public static string Destination(Commands.ClusterDrCmdlet cmdlet, string path, Stores.BackupStore store) => store != null ? path : cmdlet.ResolveFileSystemPath(path);

        public const string Zstd = "Zstd", Gzip = "Gzip";

        public static ArchiveOptions Options(string format, CompressionLevel level, Stores.BackupStore store, Encryption.AgeEncryption encryption = null) => new ArchiveOptions
        {
            Encryption = encryption,
            Store = store,
            Format = string.Equals(format, Gzip, System.StringComparison.OrdinalIgnoreCase) ? ArchiveFormat.Gzip : ArchiveFormat.Zstd,
            CompressionLevel = level,
        };
    }
}
