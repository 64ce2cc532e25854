namespace ClusterDR.Backups
{
    /// <summary>
    /// How a backup archive is compressed. Both are one tar stream that standard tools open:
    /// <c>tar --zstd -xf</c> or <c>zstd -dc | tar -x</c> for Zstd, <c>tar -xzf</c> for Gzip.
    /// </summary>
    public enum ArchiveFormat
    {
        /// <summary>.tar.zst, the default: zstd level 1 is faster than gzip's fastest and smaller, and costs almost nothing on data that does not compress.</summary>
        Zstd = 0,
        /// <summary>.tar.gz, for tools that lack zstd (older Windows tar.exe, busybox).</summary>
        Gzip = 1,
    }
}
