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

        /// <summary>
        /// Reads what the consumer left, then proves that the payload read is the one <paramref name="file"/> of the
        /// verified manifest describes (the archive may have changed since it was verified): PayloadHashMismatch otherwise.
        /// </summary>
        public void EnsureUnchanged(ManifestFile file, string payloadName, string archivePath)
        {
            var rest = new byte[1 << 16];
            while (Read(rest, 0, rest.Length) > 0) { }
            if (BytesRead != file.Size || HashHex() != file.Sha256)
                throw new ClusterDrException(ErrorIds.PayloadHashMismatch, ErrorKind.InvalidData,
                    $"{payloadName} in '{archivePath}' changed after it was verified: its SHA-256 no longer matches the manifest.", archivePath, surfaceAsIs: true);
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
