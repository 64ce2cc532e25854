using System;
using System.IO;

namespace ClusterDR.Backups
{
    /// <summary>
    /// The few zstd frames ClusterDR writes itself (RFC 8878): raw frames, whose bytes sit uncompressed at known
    /// offsets (so manifest.json's space can be filled in last), and the skippable trailer frame that records the
    /// tar's exact length (so a cut-off file is recognised from its last 24 bytes, as gzip's ISIZE allows).
    /// Every zstd decoder skips skippable frames and decodes concatenated frames as one stream.
    /// </summary>
    internal static class ZstdFrames
    {
        public const int MaxBlock = 128 * 1024;
        public const int TrailerLength = 24;
        // Frame_Header_Descriptor 0 (no content size, not single-segment, no checksum, no dictionary);
        // Window_Descriptor 0x38: a 128 KB window, the largest block.
        private static readonly byte[] RawFrameHeader = { 0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38 };
        private static readonly byte[] SkippableMagic = { 0x5e, 0x2a, 0x4d, 0x18 };
        private static readonly byte[] TrailerMark = System.Text.Encoding.ASCII.GetBytes("CDRTAR01");

        /// <summary>Bytes a raw frame of <paramref name="length"/> bytes takes.</summary>
        public static long RawFrameLength(long length) => RawFrameHeader.Length + 3 * Math.Max(1, (length + MaxBlock - 1) / MaxBlock) + length;

        /// <summary>One whole raw frame holding <paramref name="data"/>.</summary>
        public static void WriteRawFrame(Stream to, byte[] data)
        {
            to.Write(RawFrameHeader, 0, RawFrameHeader.Length);
            int at = 0;
            do
            {
                int n = Math.Min(MaxBlock, data.Length - at);
                WriteRawBlock(to, data, at, n, last: at + n == data.Length);
                at += n;
            } while (at < data.Length);
        }

        public static void WriteRawFrameHeader(Stream to) => to.Write(RawFrameHeader, 0, RawFrameHeader.Length);

        public static void WriteRawBlock(Stream to, byte[] data, int offset, int count, bool last)
        {
            uint h = (uint)count << 3 | (last ? 1u : 0u); // Block_Type 0: raw
            to.WriteByte((byte)h); to.WriteByte((byte)(h >> 8)); to.WriteByte((byte)(h >> 16));
            to.Write(data, offset, count);
        }

        public static void WriteTrailer(Stream to, long tarLength)
        {
            var t = new byte[TrailerLength];
            Buffer.BlockCopy(SkippableMagic, 0, t, 0, 4);
            t[4] = 16; // Frame_Size
            Buffer.BlockCopy(TrailerMark, 0, t, 8, 8);
            for (int i = 0; i < 8; i++) t[16 + i] = (byte)(tarLength >> (8 * i));
            to.Write(t, 0, t.Length);
        }

        /// <summary>The tar length in the file's trailer frame, or null when its last 24 bytes are no ClusterDR trailer.</summary>
        public static long? ReadTrailer(Stores.BackupLocation location) => ReadTrailer(ArchiveFile.Probe(location));

        internal static long? ReadTrailer(ArchiveFile file)
        {
            if (file.Length < RawFrameHeader.Length + TrailerLength) return null;
            var t = file.Last(TrailerLength);
            if (t == null) return null;
            for (int i = 0; i < 4; i++) if (t[i] != SkippableMagic[i]) return null;
            if (t[4] != 16 || t[5] != 0 || t[6] != 0 || t[7] != 0) return null;
            for (int i = 0; i < 8; i++) if (t[8 + i] != TrailerMark[i]) return null;
            long v = 0;
            for (int i = 7; i >= 0; i--) v = v << 8 | t[16 + i];
            return v < 0 ? (long?)null : v;
        }

        /// <summary>Whether the file begins with the raw frame header this class writes.</summary>
        public static bool StartsWithRawFrame(byte[] h)
        {
            if (h.Length < RawFrameHeader.Length) return false;
            for (int i = 0; i < RawFrameHeader.Length; i++) if (h[i] != RawFrameHeader[i]) return false;
            return true;
        }
    }

    /// <summary>A raw (uncompressed) zstd frame as a stream: -CompressionLevel NoCompression in a .tar.zst.</summary>
    internal sealed class RawFrameStream : WriteOnlyStream
    {
        private readonly Stream _inner;
        private readonly byte[] _block = new byte[ZstdFrames.MaxBlock];
        private int _count;
        private bool _ended;

        public RawFrameStream(Stream inner)
        {
            _inner = inner;
            ZstdFrames.WriteRawFrameHeader(inner);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            while (count > 0)
            {
                if (_count == _block.Length)
                {
                    ZstdFrames.WriteRawBlock(_inner, _block, 0, _count, last: false);
                    _count = 0;
                }
                int n = Math.Min(count, _block.Length - _count);
                Buffer.BlockCopy(buffer, offset, _block, _count, n);
                _count += n; offset += n; count -= n;
            }
        }

        public override void Flush() { }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_ended)
            {
                _ended = true;
                ZstdFrames.WriteRawBlock(_inner, _block, 0, _count, last: true);
            }
            base.Dispose(disposing);
        }
    }
}
