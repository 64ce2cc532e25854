using System;
using System.IO;
using System.IO.Compression;

namespace ClusterDR.Backups
{
    /// <summary>.tar.gz: the BCL's GZipStream (native zlib), one member; the format of every archive before 0.3.</summary>
    internal sealed class GzipCodec : ArchiveCodec
    {
        public const string Ext = ".tar.gz";

        public override ArchiveFormat Format => ArchiveFormat.Gzip;
        public override string Extension => Ext;
        public override long MaxRatio => 1032; // deflate's limit

        public override Stream OpenWrite(Stream file, CompressionLevel level) => new GZipStream(file, level, leaveOpen: true);

        public override IPatchableArchive OpenPatchable(Stream file, int headLength, CompressionLevel level) => new PatchableGzip(file, headLength, level);

        public override Stream OpenRead(Stream file) => new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);

        internal override (long Length, long Modulus)? ReadTarLength(ArchiveFile file)
        {
            var t = GzipTrailer.Read(file);
            return t == null ? ((long, long)?)null : (t.Value.Size, 1L << 32);
        }

        // zlib's one message for every gzip failure is "an unsupported compression method": find the real cause.
        internal override string Diagnose(Stores.BackupLocation location, Exception ex) => ex is InvalidDataException ? GzipTrailer.Diagnose(location) : null;
    }
}
