using System;
using System.IO;
using System.IO.Compression;

namespace ClusterDR.Backups
{
    /// <summary>
    /// What the archive writer and reader need from a compression format: the one place that knows
    /// file names, magic bytes, trailers and the format's own failure messages. The tar inside is the same.
    /// </summary>
    internal abstract class ArchiveCodec
    {
        public static readonly ArchiveCodec Zstd = new ZstdCodec();
        public static readonly ArchiveCodec Gzip = new GzipCodec();

        public static ArchiveCodec For(ArchiveFormat format) => format == ArchiveFormat.Gzip ? Gzip : Zstd;

        /// <summary>File name patterns a listing looks for, one per format.</summary>
        public static readonly string[] ListPatterns = { "*" + ZstdCodec.Ext, "*" + GzipCodec.Ext, "*" + ZstdCodec.Ext + Encryption.AgeArchive.Ext, "*" + GzipCodec.Ext + Encryption.AgeArchive.Ext };

        /// <summary>The codec whose magic bytes start the archive at <paramref name="location"/>, or null.</summary>
        public static ArchiveCodec Detect(Stores.BackupLocation location) => Detect(ArchiveFile.Probe(location).Head);

        /// <summary>The codec whose magic bytes start <paramref name="head"/>, or null.</summary>
        internal static ArchiveCodec Detect(byte[] head)
        {
            int n = head.Length;
            if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return Gzip;
            if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) return Zstd;
            return null;
        }

        public abstract ArchiveFormat Format { get; }

        /// <summary>".tar.zst" or ".tar.gz".</summary>
        public abstract string Extension { get; }

        /// <summary>A compressing stream over <paramref name="file"/>; disposing it ends the format (trailer included), the file stays open.</summary>
        public abstract Stream OpenWrite(Stream file, CompressionLevel level);

        /// <summary>
        /// A single-pass archive whose first <paramref name="headLength"/> bytes (manifest.json's entry) are written
        /// last, in place, once the payload is done.
        /// </summary>
        public abstract IPatchableArchive OpenPatchable(Stream file, int headLength, CompressionLevel level);

        public abstract Stream OpenRead(Stream file);

        /// <summary>
        /// The uncompressed (tar) length the file's trailer records, and the modulus it is recorded in
        /// (2^32 for gzip's ISIZE, 0 when exact); null when the end is no trailer.
        /// </summary>
        internal abstract (long Length, long Modulus)? ReadTarLength(ArchiveFile file);

        /// <summary>
        /// Whether a file without a trailer can only be a cut-off one. A .tar.zst that the zstd tool made from one of
        /// ours has none and is still whole: its frames end checked, and the payload hashes prove the rest.
        /// </summary>
        internal virtual bool RequiresTrailer(ArchiveFile file) => true;

        /// <summary>
        /// The largest factor the format can shrink data by, which bounds a file's length from below; 0 when there
        /// is no useful bound.
        /// </summary>
        public virtual long MaxRatio => 0;

        /// <summary>Why the format's reader refused <paramref name="location"/>, in operator terms; null when <paramref name="ex"/> is not the format's.</summary>
        internal abstract string Diagnose(Stores.BackupLocation location, Exception ex);
    }

    /// <summary>A single-pass archive: everything after the head streams through <see cref="Tail"/>; <see cref="Finish"/> writes the head.</summary>
    internal interface IPatchableArchive
    {
        Stream Tail { get; }
        void Finish(byte[] head);
    }
}
