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
        public static readonly string[] ListPatterns = { "*" + ZstdCodec.Ext, "*" + GzipCodec.Ext };

        /// <summary>The codec whose magic bytes start <paramref name="path"/>, or null.</summary>
        public static ArchiveCodec Detect(string path)
        {
            var magic = new byte[4];
            int n = 0;
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
                for (int r; n < 4 && (r = f.Read(magic, n, 4 - n)) > 0;) n += r;
            if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) return Gzip;
            if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd) return Zstd;
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
        public abstract IPatchableArchive OpenPatchable(FileStream file, int headLength, CompressionLevel level);

        public abstract Stream OpenRead(Stream file);

        /// <summary>
        /// The uncompressed (tar) length the file's trailer records, and the modulus it is recorded in
        /// (2^32 for gzip's ISIZE, 0 when exact); null when the end is no trailer.
        /// </summary>
        public abstract (long Length, long Modulus)? ReadTarLength(string path);

        /// <summary>
        /// Whether a file without a trailer can only be a cut-off one. A .tar.zst that the zstd tool made from one of
        /// ours has none and is still whole: its frames end checked, and the payload hashes prove the rest.
        /// </summary>
        public virtual bool RequiresTrailer(string path) => true;

        /// <summary>
        /// The largest factor the format can shrink data by, which bounds a file's length from below; 0 when there
        /// is no useful bound.
        /// </summary>
        public virtual long MaxRatio => 0;

        /// <summary>Why the format's reader refused <paramref name="path"/>, in operator terms; null when <paramref name="ex"/> is not the format's.</summary>
        public abstract string Diagnose(string path, Exception ex);
    }

    /// <summary>A single-pass archive: everything after the head streams through <see cref="Tail"/>; <see cref="Finish"/> writes the head.</summary>
    internal interface IPatchableArchive
    {
        Stream Tail { get; }
        void Finish(byte[] head);
    }
}
