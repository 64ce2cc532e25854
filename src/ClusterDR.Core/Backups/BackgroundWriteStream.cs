using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Hands writes to a second thread through a bounded queue, so that receiving (network, parsing)
    /// and hashing + writing the archive overlap on two cores. Memory stays flat: at most
    /// capacity × 64 KB in flight. A failure on the writing side surfaces, with its own type and
    /// ErrorId, at the next Write or at <see cref="Complete"/>.
    /// </summary>
    public sealed class BackgroundWriteStream : WriteOnlyStream
    {
        private const int ChunkSize = 1 << 16;
        private readonly Stream _inner;
        private readonly BlockingCollection<Chunk> _queue;
        private readonly ConcurrentBag<byte[]> _free = new ConcurrentBag<byte[]>();
        private readonly Thread _thread;
        private volatile ExceptionDispatchInfo _error;
        private volatile bool _abandoned;
        private bool _completed;

        private struct Chunk { public byte[] Buffer; public int Count; }

        public BackgroundWriteStream(Stream inner, int capacity = 16)
        {
            _inner = inner;
            _queue = new BlockingCollection<Chunk>(capacity);
            _thread = new Thread(Drain) { IsBackground = true, Name = "ClusterDR archive writer" };
            _thread.Start();
        }

        private void Drain()
        {
            foreach (var c in _queue.GetConsumingEnumerable())
            {
                if (_error == null && !_abandoned)
                {
                    try { _inner.Write(c.Buffer, 0, c.Count); }
                    catch (Exception ex) { _error = ExceptionDispatchInfo.Capture(ex); }
                }
                _free.Add(c.Buffer);
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            _error?.Throw();
            while (count > 0)
            {
                if (!_free.TryTake(out var chunk)) chunk = new byte[ChunkSize];
                int n = Math.Min(count, ChunkSize);
                Buffer.BlockCopy(buffer, offset, chunk, 0, n);
                _queue.Add(new Chunk { Buffer = chunk, Count = n });
                offset += n;
                count -= n;
            }
        }

        /// <summary>Waits until everything is written; rethrows the writing side's failure.</summary>
        public void Complete()
        {
            if (!_completed)
            {
                _completed = true;
                _queue.CompleteAdding();
                _thread.Join();
            }
            _error?.Throw();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_completed)
            {
                // Not completed: the producer failed or was cancelled; what is queued is not written.
                _abandoned = true;
                _completed = true;
                _queue.CompleteAdding();
                _thread.Join();
            }
            if (disposing) _queue.Dispose();
            base.Dispose(disposing);
        }
    }
}
