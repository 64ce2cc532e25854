using System.IO;
using System.IO.Compression;

namespace ClusterDR.Backups
{
    /// <summary>
    /// A gzip file's last 8 bytes (CRC-32 and ISIZE, the uncompressed length mod 2^32), and what went wrong
    /// when zlib refuses a member: it reports every failure as "an unsupported compression method".
    /// </summary>
    internal static class GzipTrailer
    {
        /// <summary>The trailer's CRC-32 and ISIZE, or null when the file is too short to be a gzip member.</summary>
        public static (uint Crc, uint Size)? Read(ArchiveFile file)
        {
            if (file.Length < 18) return null; // 10-byte header, an empty deflate block, 8-byte trailer
            var trailer = file.Last(8);
            if (trailer == null) return null;
            return (PatchableGzip.ReadLe(trailer, 0), PatchableGzip.ReadLe(trailer, 4));
        }

        /// <summary>
        /// Why zlib refused <paramref name="path"/>, in operator terms. Only a failure pays for this second pass:
        /// the deflate data is inflated without zlib's trailer check and its CRC and length compared with the trailer.
        /// </summary>
        public static string Diagnose(Stores.BackupLocation location)
        {
            try
            {
                uint crc = 0;
                long count = 0;
                using (var f = location.OpenRead())
                {
                    if (!SkipHeader(f)) return "its gzip header is damaged";
                    using (var inflate = new DeflateStream(f, CompressionMode.Decompress, leaveOpen: true))
                    {
                        var buf = new byte[1 << 16];
                        int n;
                        while ((n = inflate.Read(buf, 0, buf.Length)) > 0)
                        {
                            crc = Crc32.Compute(buf, 0, n, crc);
                            count += n;
                        }
                    }
                }
                var t = Read(ArchiveFile.Probe(location));
                if (t == null || t.Value.Crc != crc || t.Value.Size != (uint)(count & 0xffffffff)) return "gzip checksum mismatch";
                return "its gzip stream is malformed";
            }
            catch (InvalidDataException) { return "its compressed data is corrupt"; }
            catch (IOException ex) { return "it could not be read again to find the damage (" + ex.Message + ")"; }
            catch (ClusterDrException ex) { return "it could not be read again to find the damage (" + ex.Message + ")"; }
        }

        /// <summary>Skips the gzip header with its optional fields (RFC 1952 2.3); false when it is not a deflate member.</summary>
        private static bool SkipHeader(Stream s)
        {
            var h = new byte[10];
            for (int at = 0, n; at < 10; at += n)
                if ((n = s.Read(h, at, 10 - at)) <= 0) return false;
            if (h[0] != 0x1f || h[1] != 0x8b || h[2] != 8) return false;
            int flags = h[3];
            if ((flags & 4) != 0)
            {
                int lo = s.ReadByte(), hi = s.ReadByte();
                if (hi < 0) return false;
                for (int i = lo | hi << 8; i > 0; i--) if (s.ReadByte() < 0) return false;
            }
            for (int field = 8; field <= 16; field <<= 1) // FNAME, then FCOMMENT: zero-terminated
                if ((flags & field) != 0)
                    for (int b; (b = s.ReadByte()) != 0;) if (b < 0) return false;
            if ((flags & 2) != 0 && (s.ReadByte() < 0 || s.ReadByte() < 0)) return false;
            return true;
        }
    }
}
