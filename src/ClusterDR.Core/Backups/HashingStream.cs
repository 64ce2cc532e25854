using System;
using System.IO;
using System.Security.Cryptography;

namespace ClusterDR.Backups
{
    /// <summary>A write-through stream that hashes (SHA-256) and counts what passes, and optionally reports progress.</summary>
    public sealed class HashingStream : WriteOnlyStream
    {
        private readonly Stream _inner;
        private readonly bool _leaveOpen;
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // IncrementalHash.GetCurrentHash (.NET 5+, so PowerShell 7): the hash so far without ending it.
        private static readonly System.Reflection.MethodInfo GetCurrentHash = typeof(IncrementalHash).GetMethod("GetCurrentHash", Type.EmptyTypes);
        private readonly Action<long> _progress;
        private byte[] _hash;

        public HashingStream(Stream inner, bool leaveOpen = false, Action<long> progress = null)
        {
            _inner = inner; _leaveOpen = leaveOpen; _progress = progress;
        }

        public long BytesWritten { get; private set; }

        /// <summary>Lower-case hex SHA-256 of everything written; finishes the hash.</summary>
        public string HashHex()
        {
            if (_hash == null) _hash = _sha.GetHashAndReset();
            return Hex(_hash);
        }

        /// <summary>Whether <see cref="CurrentHash"/> works on this runtime.</summary>
        public static bool CanPeek => GetCurrentHash != null;

        /// <summary>SHA-256 of what was written so far, hashing goes on (one pass yields two hashes).</summary>
        public byte[] CurrentHash()
        {
            if (GetCurrentHash == null) throw new PlatformNotSupportedException("IncrementalHash.GetCurrentHash needs .NET 5 or later.");
            return (byte[])GetCurrentHash.Invoke(_sha, null);
        }

        public static string Hex(byte[] bytes)
        {
            var c = new char[bytes.Length * 2];
            const string digits = "0123456789abcdef";
            for (int i = 0; i < bytes.Length; i++) { c[2 * i] = digits[bytes[i] >> 4]; c[2 * i + 1] = digits[bytes[i] & 15]; }
            return new string(c);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (count == 0) return;
            _sha.AppendData(buffer, offset, count);
            _inner?.Write(buffer, offset, count);
            BytesWritten += count;
            _progress?.Invoke(BytesWritten);
        }

        public override void Flush() => _inner?.Flush();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                if (!_leaveOpen) _inner?.Dispose();
                _sha.Dispose();
            }
            base.Dispose(disposing);
        }

        public override long Length => BytesWritten;
        public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    }
}
