using System;
using System.IO;

namespace ClusterDR.Encryption
{
    /// <summary>
    /// Encrypts an archive into an age file as it is written, memory flat. The archive writer patches its head (the
    /// manifest) after the payload, so the first <c>hold</c> bytes stay plaintext in memory and are sealed at
    /// <see cref="Finish"/>, with the header (whose clear metadata records the final length) in front of them;
    /// everything after streams out sealed, 64 KiB at a time. The output must allow a seek back to its start
    /// (a file, or an upload whose first part is still in memory). Chunks past the head are sealed and written on a
    /// thread of their own (a few chunks queued), so encryption overlaps compression instead of adding to it.
    /// </summary>
    internal sealed class AgeEncryptStream : Stream
    {
        private readonly Stream _inner;
        private readonly Func<long, byte[]> _header; // the header for a final plaintext length; always the same size
        private readonly int _headerLength;
        private readonly byte[] _nonce;
        private readonly byte[] _key;
        private readonly byte[] _held;
        private readonly long _innerStart;
        private byte[] _cur = new byte[AgePayload.Chunk];
        private readonly byte[] _sealed = new byte[AgePayload.Sealed];
        private const int Queued = 8;
        private readonly System.Collections.Concurrent.BlockingCollection<(byte[] Plain, long Index)> _queue =
            new System.Collections.Concurrent.BlockingCollection<(byte[], long)>(Queued);
        private readonly System.Collections.Concurrent.ConcurrentBag<byte[]> _free = new System.Collections.Concurrent.ConcurrentBag<byte[]>();
        private System.Threading.Tasks.Task _sealer;
        private Exception _sealFailed;
        private int _curLength;
        private long _curIndex;
        private long _pos, _length;
        private bool _started, _finished;

        public AgeEncryptStream(Stream inner, byte[] fileKey, Func<long, byte[]> header, int hold)
        {
            _inner = inner;
            _header = header;
            _headerLength = header(0).Length;
            _nonce = AgePrimitives.Random(AgePayload.NonceLength);
            _key = AgePayload.Key(fileKey, _nonce);
            int chunks = Math.Max(1, (hold + AgePayload.Chunk - 1) / AgePayload.Chunk);
            _held = new byte[chunks * AgePayload.Chunk];
            _curIndex = chunks;
            _innerStart = inner.Position;
        }

        /// <summary>Bytes of the output before its first sealed chunk that streams: what must stay patchable there.</summary>
        public long PatchedLength => _headerLength + AgePayload.NonceLength + (_held.Length / AgePayload.Chunk) * (long)AgePayload.Sealed;

        public override bool CanRead => false;
        public override bool CanSeek => true;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _pos; set => Seek(value, SeekOrigin.Begin); }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long to = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? _pos + offset : _length + offset;
            if (to < 0 || to > _length || (to > _held.Length && to != _length))
                throw new NotSupportedException("An encrypted archive can only be rewritten within its held head.");
            return _pos = to;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_finished) throw new ObjectDisposedException(nameof(AgeEncryptStream));
            while (count > 0)
            {
                int n;
                if (_pos < _held.Length)
                {
                    n = (int)Math.Min(count, _held.Length - _pos);
                    Buffer.BlockCopy(buffer, offset, _held, (int)_pos, n);
                }
                else
                {
                    if (_pos != _length) throw new NotSupportedException("An encrypted archive is written in order after its head.");
                    if (!_started) Start();
                    if (_curLength == AgePayload.Chunk) QueueCurrent(); // more follows: the full chunk is not the last
                    n = Math.Min(count, AgePayload.Chunk - _curLength);
                    Buffer.BlockCopy(buffer, offset, _cur, _curLength, n);
                    _curLength += n;
                }
                _pos += n;
                if (_pos > _length) _length = _pos;
                offset += n;
                count -= n;
            }
        }

        /// <summary>The header's and the held chunks' places, kept with zeros until <see cref="Finish"/>.</summary>
        private void Start()
        {
            var zeros = new byte[1 << 16];
            for (long left = PatchedLength; left > 0;)
            {
                int n = (int)Math.Min(left, zeros.Length);
                _inner.Write(zeros, 0, n);
                left -= n;
            }
            _started = true;
            _sealer = System.Threading.Tasks.Task.Factory.StartNew(SealQueued, System.Threading.Tasks.TaskCreationOptions.LongRunning);
        }

        /// <summary>A full chunk that is not the last: to the sealing thread, in order.</summary>
        private void QueueCurrent()
        {
            RethrowSealFailure();
            try { _queue.Add((_cur, _curIndex++)); }
            catch (InvalidOperationException) { RethrowSealFailure(); throw; }
            _cur = _free.TryTake(out var b) ? b : new byte[AgePayload.Chunk];
            _curLength = 0;
        }

        private void SealQueued()
        {
            var buffer = new byte[AgePayload.Sealed];
            try
            {
                foreach (var (plain, index) in _queue.GetConsumingEnumerable())
                {
                    AgePrimitives.Seal(true, _key, AgePayload.ChunkNonce(index, false), plain, 0, AgePayload.Chunk, buffer, 0);
                    _inner.Write(buffer, 0, AgePayload.Sealed);
                    _free.Add(plain);
                }
            }
            catch (Exception ex)
            {
                _sealFailed = ex;
                _queue.CompleteAdding();
                while (_queue.TryTake(out _)) { }
            }
        }

        /// <summary>Waits for the queued chunks; the last is sealed on the caller's thread.</summary>
        private void DrainQueue()
        {
            if (_sealer == null) return;
            if (!_queue.IsAddingCompleted) _queue.CompleteAdding();
            _sealer.Wait();
            _sealer = null;
            RethrowSealFailure();
        }

        /// <summary>The output's own failure (a full disk, a store's refusal) as it was, on the writer's thread.</summary>
        private void RethrowSealFailure()
        {
            if (_sealFailed != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_sealFailed).Throw();
        }

        private void Seal(byte[] plain, int offset, int count, long index, bool last)
        {
            AgePrimitives.Seal(true, _key, AgePayload.ChunkNonce(index, last), plain, offset, count, _sealed, 0);
            _inner.Write(_sealed, 0, count + 16);
        }

        /// <summary>Seals the last chunk, then writes the header (for the final length) and the held head in front.</summary>
        public void Finish()
        {
            if (_finished) return;
            _finished = true;
            bool beyond = _length > _held.Length;
            DrainQueue();
            if (beyond) Seal(_cur, 0, _curLength, _curIndex++, last: true);
            long end = _inner.Position;
            if (_started) _inner.Seek(_innerStart, SeekOrigin.Begin);
            var header = _header(_length);
            if (header.Length != _headerLength) throw new InvalidOperationException("The age header changed size.");
            _inner.Write(header, 0, header.Length);
            _inner.Write(_nonce, 0, _nonce.Length);
            int heldChunks = beyond ? _held.Length / AgePayload.Chunk : (int)Math.Max(1, (_length + AgePayload.Chunk - 1) / AgePayload.Chunk);
            for (int i = 0; i < heldChunks; i++)
            {
                int n = (int)Math.Min(AgePayload.Chunk, _length - (long)i * AgePayload.Chunk);
                Seal(_held, i * AgePayload.Chunk, n, i, last: !beyond && i == heldChunks - 1);
            }
            if (_started) _inner.Seek(end, SeekOrigin.Begin);
            Array.Clear(_held, 0, _held.Length);
            _inner.Flush();
        }

        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // Abandoned (a failed backup): stop the sealing thread before the output goes.
                try { if (!_queue.IsAddingCompleted) _queue.CompleteAdding(); _sealer?.Wait(); } catch { }
                _queue.Dispose();
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
