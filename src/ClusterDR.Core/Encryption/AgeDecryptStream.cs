using System;
using System.IO;

namespace ClusterDR.Encryption
{
    /// <summary>
    /// Reads the plaintext of an age file in one pass, one 64 KiB chunk at a time: each chunk is authenticated before a
    /// byte of it is returned, and a file that ends anywhere but after its flagged last chunk fails. The header (already
    /// parsed and unlocked) is read past, not skipped, so a tap below sees the whole file.
    /// </summary>
    internal sealed class AgeDecryptStream : Backups.ReadOnlyStream
    {
        private readonly Stream _inner;
        private readonly byte[] _fileKey;
        private readonly int _headerLength;
        private readonly string _display;
        private byte[] _key;
        private readonly byte[] _sealed = new byte[AgePayload.Sealed + 1];
        private readonly byte[] _plain = new byte[AgePayload.Chunk];
        private int _carry; // bytes of the next chunk already read (the one-byte look-ahead)
        private int _plainLength, _plainPos;
        private long _index;
        private bool _done;

        public AgeDecryptStream(Stream inner, byte[] fileKey, int headerLength, string display)
        {
            _inner = inner;
            _fileKey = fileKey;
            _headerLength = headerLength;
            _display = display;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (count == 0) return 0;
            if (_key == null) Begin();
            while (_plainPos == _plainLength)
            {
                if (_done) return 0;
                NextChunk();
            }
            int n = Math.Min(count, _plainLength - _plainPos);
            Buffer.BlockCopy(_plain, _plainPos, buffer, offset, n);
            _plainPos += n;
            return n;
        }

        private void Begin()
        {
            var skip = new byte[_headerLength];
            if (Fill(skip, 0, skip.Length) != skip.Length) throw Damaged("it ends inside its header");
            var nonce = new byte[AgePayload.NonceLength];
            if (Fill(nonce, 0, nonce.Length) != nonce.Length) throw Damaged("it ends before its payload");
            _key = AgePayload.Key(_fileKey, nonce);
        }

        private void NextChunk()
        {
            int got = _carry + Fill(_sealed, _carry, AgePayload.Sealed - _carry);
            bool last = got < AgePayload.Sealed;
            _carry = 0;
            if (!last)
            {
                // A full chunk is the last only when the file ends right after it.
                if (Fill(_sealed, AgePayload.Sealed, 1) == 0) last = true;
            }
            if (got < 16 || (last && got == 16 && _index > 0)) throw Damaged("it ends in the middle of its encrypted data (cut short)");
            if (!AgePrimitives.Seal(false, _key, AgePayload.ChunkNonce(_index, last), _sealed, 0, got, _plain, 0))
                throw Damaged(last ? "its last encrypted chunk fails authentication: the file was cut short, damaged or tampered with"
                                   : $"encrypted chunk {_index} fails authentication: the file was damaged or tampered with");
            _plainLength = got - 16;
            _plainPos = 0;
            _index++;
            if (last) _done = true;
            else { _sealed[0] = _sealed[AgePayload.Sealed]; _carry = 1; }
        }

        private int Fill(byte[] b, int offset, int count)
        {
            int n = 0;
            for (int r; n < count && (r = _inner.Read(b, offset + n, count - n)) > 0;) n += r;
            return n;
        }

        private ClusterDrException Damaged(string why) =>
            new ClusterDrException(ErrorIds.ArchiveCorrupt, ErrorKind.InvalidData, $"'{_display}' is not a whole encrypted backup: {why}. Nothing of it is used.", _display);

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
