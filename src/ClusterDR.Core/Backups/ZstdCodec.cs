using System;
using System.IO;
using System.IO.Compression;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace ClusterDR.Backups
{
    /// <summary>
    /// .tar.zst: frames in a row, which every zstd decoder reads as one stream —
    /// [raw frame: manifest.json's entry, single-pass archives only] [the tar, compressed, with zstd's content
    /// checksum] [skippable trailer: the tar's length]. ZstdSharp is a managed port of the reference library,
    /// so the module carries no native code.
    /// </summary>
    internal sealed class ZstdCodec : ArchiveCodec
    {
        public const string Ext = ".tar.zst";

        public override ArchiveFormat Format => ArchiveFormat.Zstd;
        public override string Extension => Ext;

        public override Stream OpenWrite(Stream file, CompressionLevel level) => new TarZstStream(file, level, 0);

        public override IPatchableArchive OpenPatchable(Stream file, int headLength, CompressionLevel level) => new PatchableZstd(file, headLength, level);

        public override Stream OpenRead(Stream file) => new DecompressionStream(file, 1 << 17, checkEndOfStream: true, leaveOpen: true);

        internal override (long Length, long Modulus)? ReadTarLength(ArchiveFile file)
        {
            var n = ZstdFrames.ReadTrailer(file);
            return n == null ? ((long, long)?)null : (n.Value, 0L);
        }

        /// <summary>Only ClusterDR's single-pass layout starts with its raw frame, and ClusterDR always ends an archive with the trailer.</summary>
        internal override bool RequiresTrailer(ArchiveFile file) => ZstdFrames.StartsWithRawFrame(file.Head);

        internal override string Diagnose(Stores.BackupLocation location, Exception ex)
        {
            if (!(ex is ZstdException z)) return null;
            switch (z.Code)
            {
                case ZSTD_ErrorCode.ZSTD_error_checksum_wrong: return "its zstd checksum does not match the data";
                case ZSTD_ErrorCode.ZSTD_error_srcSize_wrong: return "its zstd stream ends in the middle of a frame (truncated)";
                case ZSTD_ErrorCode.ZSTD_error_prefix_unknown: return "its zstd framing is damaged";
                default: return "its zstd data is corrupt";
            }
        }

        /// <summary>zstd levels for the BCL's names: Fastest 1, Optimal 3 (zstd's default), SmallestSize 19; NoCompression writes raw blocks.</summary>
        internal static int Level(CompressionLevel level)
        {
            switch ((int)level)
            {
                case (int)CompressionLevel.Fastest: return 1;
                case 3: return 19; // SmallestSize, .NET 6+
                default: return 3;
            }
        }

        /// <summary>The tar's compressed frame(s), then the trailer; counts what it is given.</summary>
        internal sealed class TarZstStream : WriteOnlyStream
        {
            private readonly Stream _file;
            private readonly Stream _frame;
            private readonly long _before;
            private bool _ended;

            /// <param name="before">Tar bytes already in the file ahead of this stream (a single-pass archive's head).</param>
            public TarZstStream(Stream file, CompressionLevel level, long before)
            {
                _file = file;
                _before = before;
                if (level == CompressionLevel.NoCompression) _frame = new RawFrameStream(file);
                else
                {
                    var z = new CompressionStream(file, Level(level), 1 << 17, leaveOpen: true);
                    z.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
                    _frame = z;
                }
            }

            public long Count { get; private set; }

            public override void Write(byte[] buffer, int offset, int count)
            {
                _frame.Write(buffer, offset, count);
                Count += count;
            }

            public override void Flush() { }

            protected override void Dispose(bool disposing)
            {
                if (disposing && !_ended)
                {
                    _ended = true;
                    _frame.Dispose();
                    ZstdFrames.WriteTrailer(_file, _before + Count);
                }
                base.Dispose(disposing);
            }
        }

        /// <summary>The head as a raw frame at the front, rewritten in place at the end; its offsets never move.</summary>
        private sealed class PatchableZstd : IPatchableArchive
        {
            private readonly Stream _file;
            private readonly long _start;
            private readonly int _headLength;
            private readonly TarZstStream _tail;

            public PatchableZstd(Stream file, int headLength, CompressionLevel level)
            {
                _file = file;
                _start = file.Position;
                _headLength = headLength;
                ZstdFrames.WriteRawFrame(file, new byte[headLength]);
                _tail = new TarZstStream(file, level, headLength);
            }

            public Stream Tail => _tail;

            public void Finish(byte[] head)
            {
                if (head.Length != _headLength) throw new ArgumentException($"The head must stay {_headLength} bytes long.", nameof(head));
                _tail.Dispose();
                long end = _file.Position;
                _file.Seek(_start, SeekOrigin.Begin);
                ZstdFrames.WriteRawFrame(_file, head);
                _file.Seek(end, SeekOrigin.Begin);
            }
        }
    }
}
