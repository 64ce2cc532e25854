using System;
using System.IO;
using System.IO.Compression;

namespace ClusterDR.Backups
{
    /// <summary>
    /// One ordinary gzip member written in a single pass whose first bytes (the "head": manifest.json's
    /// tar entry, only known at the end) are filled in last. Layout, all one deflate stream:
    /// gzip header | the head as stored (uncompressed) deflate blocks, not final | the BCL's deflate
    /// output for everything after | CRC-32 and length of the whole. The head keeps a fixed size, so it can
    /// be rewritten in place; its CRC is folded into the tail's with <see cref="Crc32.Combine"/>. Any gzip
    /// reader (the BCL's, .NET Framework's, gzip, tar) sees a single standard member.
    /// </summary>
    internal sealed class PatchableGzip : IPatchableArchive
    {
        private const int HeaderLength = 10;
        private const int MaxStored = 65535;
        private static readonly byte[] Header = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255 };

        private readonly Stream _file;
        private readonly int _headLength;
        private readonly GZipStream _gzip;
        private readonly MemberBody _body;
        private readonly CountingWriteStream _tail;

        public PatchableGzip(Stream file, int headLength, CompressionLevel level)
        {
            _file = file;
            _headLength = headLength;
            _file.Write(Header, 0, Header.Length);
            WriteStored(_file, new byte[headLength]);
            _body = new MemberBody(file);
            _gzip = new GZipStream(_body, level, leaveOpen: true);
            _tail = new CountingWriteStream(_gzip);
        }

        /// <summary>Everything after the head, uncompressed.</summary>
        public Stream Tail => _tail;

        /// <summary>Ends the member: trailer for head + tail, then the head written over its placeholder.</summary>
        public void Finish(byte[] head)
        {
            if (head.Length != _headLength) throw new ArgumentException($"The head must stay {_headLength} bytes long.", nameof(head));
            _gzip.Dispose();
            byte[] trailer = _body.Trailer();
            uint tailCrc = ReadLe(trailer, 0);
            if (ReadLe(trailer, 4) != (uint)_tail.Count)
                throw new InvalidOperationException("The gzip writer's length disagrees with the bytes given to it.");
            uint crc = Crc32.Combine(Crc32.Compute(head, 0, head.Length), tailCrc, _tail.Count);
            long end = _file.Position;
            var last = new byte[8];
            WriteLe(last, 0, crc);
            WriteLe(last, 4, (uint)((head.Length + _tail.Count) & 0xffffffff));
            _file.Write(last, 0, 8);
            _file.Seek(HeaderLength, SeekOrigin.Begin);
            WriteStored(_file, head);
            _file.Seek(end + 8, SeekOrigin.Begin);
        }

        /// <summary>Deflate stored blocks, never final (the BCL's deflate stream that follows ends the member).</summary>
        private static void WriteStored(Stream to, byte[] data)
        {
            var hdr = new byte[5];
            for (int at = 0; at < data.Length; at += MaxStored)
            {
                int n = Math.Min(MaxStored, data.Length - at);
                hdr[0] = 0; // BFINAL 0, BTYPE 00 (stored), padded to the byte boundary
                hdr[1] = (byte)n; hdr[2] = (byte)(n >> 8);
                hdr[3] = (byte)~n; hdr[4] = (byte)(~n >> 8);
                to.Write(hdr, 0, 5);
                to.Write(data, at, n);
            }
        }

        internal static uint ReadLe(byte[] b, int i) => (uint)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 | b[i + 3] << 24);

        private static void WriteLe(byte[] b, int i, uint v)
        {
            b[i] = (byte)v; b[i + 1] = (byte)(v >> 8); b[i + 2] = (byte)(v >> 16); b[i + 3] = (byte)(v >> 24);
        }

        /// <summary>Passes the BCL's gzip output on without its 10-byte header and holds back its 8-byte trailer.</summary>
        private sealed class MemberBody : WriteOnlyStream
        {
            private readonly Stream _inner;
            private readonly byte[] _held = new byte[8];
            private readonly byte[] _header = new byte[HeaderLength];
            private int _headerSeen;
            private int _heldCount;

            public MemberBody(Stream inner) { _inner = inner; }

            public override void Write(byte[] buffer, int offset, int count)
            {
                while (_headerSeen < HeaderLength && count > 0)
                {
                    _header[_headerSeen++] = buffer[offset++];
                    count--;
                    // Only a plain header (no name, comment or extra field) is exactly 10 bytes.
                    if (_headerSeen == HeaderLength && (_header[0] != 0x1f || _header[1] != 0x8b || _header[2] != 8 || _header[3] != 0))
                        throw new NotSupportedException("This runtime's GZipStream writes a gzip header with optional fields.");
                }
                if (count == 0) return;
                if (count >= 8)
                {
                    _inner.Write(_held, 0, _heldCount);
                    _inner.Write(buffer, offset, count - 8);
                    Buffer.BlockCopy(buffer, offset + count - 8, _held, 0, 8);
                    _heldCount = 8;
                    return;
                }
                int total = _heldCount + count;
                int release = Math.Max(0, total - 8);
                if (release > 0) _inner.Write(_held, 0, release);
                Buffer.BlockCopy(_held, release, _held, 0, _heldCount - release);
                Buffer.BlockCopy(buffer, offset, _held, _heldCount - release, count);
                _heldCount = total - release;
            }

            public override void Flush() { }

            public byte[] Trailer()
            {
                if (_heldCount != 8) throw new InvalidOperationException("The gzip writer ended without a trailer.");
                return _held;
            }
        }
    }
}
