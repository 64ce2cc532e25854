using System;
using System.IO;
using System.Security.Cryptography;

namespace ClusterDR.Backups
{
    /// <summary>A read-through stream that hashes what is read, to re-verify a payload while it is being sent.</summary>
    public sealed class ReadHashingStream : ReadOnlyStream
    {
        private readonly Stream _inner;
        private readonly SHA256 _sha = SHA256.Create();

        public ReadHashingStream(Stream inner) { _inner = inner; }

        public long BytesRead { get; private set; }

        public string HashHex()
        {
            _sha.TransformFinalBlock(new byte[0], 0, 0);
            return HashingStream.Hex(_sha.Hash);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = _inner.Read(buffer, offset, count);
            if (n > 0) { _sha.TransformBlock(buffer, offset, n, null, 0); BytesRead += n; }
            return n;
        }

        protected override void Dispose(bool disposing) { if (disposing) _sha.Dispose(); base.Dispose(disposing); }
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    }
}
