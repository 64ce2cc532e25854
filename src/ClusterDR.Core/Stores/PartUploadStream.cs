using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ClusterDR.Stores
{
    /// <summary>
    /// A sequential write stream over <see cref="IMultipartUpload"/>. The first part stays in memory until Commit, so
    /// the archive can seek back and patch its head (manifest.json) in place; later parts go out as they fill, up to
    /// <see cref="RemoteStore.PartsInFlight"/> at once, while the producer goes on. A part's failure stops the upload
    /// (the next Write or Commit throws it) and the upload is aborted on Dispose.
    /// </summary>
    internal sealed class PartUploadStream : Stream, IStoreUpload
    {
        private readonly RemoteStore _store;
        private readonly string _key;
        private readonly CancellationToken _ct;
        private readonly int _partSize;
        private readonly byte[] _first;
        private byte[] _current;
        private int _firstCount, _currentCount;
        private int _parts = 1; // part 1 is _first; _current is part _parts + 1 once it exists
        private long _length, _position;
        private readonly List<Task> _inFlight = new List<Task>();
        private readonly SemaphoreSlim _slots;
        private readonly Stack<byte[]> _free = new Stack<byte[]>();
        private IMultipartUpload _upload;
        private Exception _failed;
        private bool _committed, _disposed;

        public PartUploadStream(RemoteStore store, string key, CancellationToken ct)
        {
            _store = store;
            _key = key;
            _ct = ct;
            _partSize = Math.Max(5 * 1024 * 1024, store.PartSize);
            _first = new byte[_partSize];
            _slots = new SemaphoreSlim(Math.Max(1, store.PartsInFlight));
        }

        public Stream Stream => this;
        public long PatchableLength => _partSize;

        public override bool CanRead => false;
        public override bool CanSeek => true;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get => _position; set => Seek(value, SeekOrigin.Begin); }

        public override long Seek(long offset, SeekOrigin origin)
        {
            long to = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? _position + offset : _length + offset;
            if (to != _length && (to < 0 || to > _firstCount))
                throw new NotSupportedException("An upload can seek back only into its first part.");
            _position = to;
            return to;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            ThrowIfFailed();
            if (_position < _length)
            {
                // Patching the head: only inside the first part, never past what is written.
                if (_position + count > _firstCount) throw new NotSupportedException("A patch must stay inside the upload's first part.");
                Buffer.BlockCopy(buffer, offset, _first, (int)_position, count);
                _position += count;
                return;
            }
            while (count > 0)
            {
                int n;
                if (_parts == 1 && _current == null && _firstCount < _partSize)
                {
                    n = Math.Min(count, _partSize - _firstCount);
                    Buffer.BlockCopy(buffer, offset, _first, _firstCount, n);
                    _firstCount += n;
                }
                else
                {
                    if (_current == null) _current = _free.Count > 0 ? _free.Pop() : new byte[_partSize];
                    n = Math.Min(count, _partSize - _currentCount);
                    Buffer.BlockCopy(buffer, offset, _current, _currentCount, n);
                    _currentCount += n;
                    if (_currentCount == _partSize) SendCurrent();
                }
                offset += n; count -= n; _length += n; _position = _length;
            }
        }

        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        private IMultipartUpload Upload => _upload ?? (_upload = _store.StartMultipart(_key, _ct));

        /// <summary>Sends the filled part on the thread pool; waits for a slot first, so memory stays bounded.</summary>
        private void SendCurrent()
        {
            var data = _current;
            int count = _currentCount, number = ++_parts;
            _current = null;
            _currentCount = 0;
            var upload = Upload;
            _slots.Wait(_ct);
            ThrowIfFailed();
            lock (_inFlight)
            {
                _inFlight.RemoveAll(t => t.IsCompleted);
                _inFlight.Add(Task.Run(() =>
                {
                    try { upload.UploadPart(number, data, count, _ct); }
                    catch (Exception ex) { lock (_inFlight) { if (_failed == null) _failed = ex; } }
                    finally
                    {
                        lock (_free) _free.Push(data);
                        _slots.Release();
                    }
                }));
            }
        }

        private void ThrowIfFailed()
        {
            Exception f;
            lock (_inFlight) f = _failed;
            if (f != null) throw f is ClusterDrException ? f : new IOException($"Uploading to '{_store.Describe(_key)}' failed: {f.Message}", f);
        }

        /// <summary>Sends the last part and the (patched) first, waits for every part, then publishes the object.</summary>
        public void Commit(CancellationToken ct)
        {
            if (_committed) return;
            if (_current != null && _currentCount > 0) SendCurrent();
            Task[] pending;
            lock (_inFlight) pending = _inFlight.ToArray();
            Task.WaitAll(pending);
            ThrowIfFailed();
            var upload = Upload;
            upload.UploadPart(1, _first, _firstCount, ct);
            upload.Complete(_parts, ct);
            _committed = true;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                Task[] pending;
                lock (_inFlight) pending = _inFlight.ToArray();
                try { Task.WaitAll(pending); } catch { }
                // Uncommitted: the store's Dispose aborts it, and never throws.
                _upload?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
