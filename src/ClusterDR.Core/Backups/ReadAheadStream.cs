using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace ClusterDR.Backups
{
    /// <summary>
    /// Reads its source (the decompressor) on a second thread, a bounded number of chunks ahead, so that decompressing
    /// and hashing (or writing) a payload overlap on two cores. Memory stays flat: at most capacity × 128 KB ahead. A
    /// failure of the source surfaces, as itself, at the Read that would have met it.
    /// </summary>
    public sealed class ReadAheadStream : ReadOnlyStream
    {
        private const int ChunkSize = 1 << 17;
        private readonly Stream _inner;
        private readonly BlockingCollection<Chunk> _queue;
        private readonly ConcurrentBag<byte[]> _free = new ConcurrentBag<byte[]>();
        private readonly Thread _thread;
        private volatile bool _stopping;
        private Chunk _current;
        private int _offset;
        private bool _ended;

        private struct Chunk { public byte[] Buffer; public int Count; public ExceptionDispatchInfo Error; }

        public ReadAheadStream(Stream inner, int capacity = 8)
        {
            _inner = inner;
            _queue = new BlockingCollection<Chunk>(capacity);
            _thread = new Thread(Fill) { IsBackground = true, Name = "ClusterDR archive reader" };
            _thread.Start();
        }

        private void Fill()
        {
            try
            {
                while (!_stopping)
                {
                    if (!_free.TryTake(out var buffer)) buffer = new byte[ChunkSize];
                    int n = _inner.Read(buffer, 0, buffer.Length);
                    if (!Put(new Chunk { Buffer = buffer, Count = n }) || n == 0) break;
                }
            }
            catch (Exception ex) { Put(new Chunk { Error = ExceptionDispatchInfo.Capture(ex) }); }
            finally { _queue.CompleteAdding(); }
        }

        private bool Put(Chunk c)
        {
            try
            {
                while (!_stopping) if (_queue.TryAdd(c, 100)) return true;
            }
            catch (InvalidOperationException) { }
            return false;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_ended || count == 0) return 0;
            if (_current.Buffer == null || _offset == _current.Count)
            {
                if (_current.Buffer != null) _free.Add(_current.Buffer);
                _current = default;
                if (!_queue.TryTake(out var next, Timeout.Infinite)) { _ended = true; return 0; }
                next.Error?.Throw();
                if (next.Count == 0) { _ended = true; return 0; }
                _current = next;
                _offset = 0;
            }
            int n = Math.Min(count, _current.Count - _offset);
            Buffer.BlockCopy(_current.Buffer, _offset, buffer, offset, n);
            _offset += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _stopping = true;
                _thread.Join();
                _queue.Dispose();
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
