using System;
using System.IO;
using System.Threading;

namespace ClusterDR.Stores
{
    /// <summary>
    /// Reads a remote object in ranged requests that grow as the reader goes on: a listing that needs only the
    /// manifest (the first MiB or so) fetches that much, never the payload.
    /// </summary>
    internal sealed class ChunkedReadStream : Backups.ReadOnlyStream
    {
        private const long MaxChunk = 16L * 1024 * 1024;
        private readonly BackupStore _store;
        private readonly string _key;
        private readonly long _length;
        private readonly CancellationToken _ct;
        private long _offset, _chunk;
        private Stream _current;
        private long _currentLeft;

        public ChunkedReadStream(BackupStore store, string key, long length, long firstChunk, CancellationToken ct)
        {
            _store = store;
            _key = key;
            _length = length;
            _chunk = Math.Max(64 * 1024, firstChunk);
            _ct = ct;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (true)
            {
                if (_current == null)
                {
                    if (_offset >= _length) return 0;
                    long n = Math.Min(_chunk, _length - _offset);
                    _current = _store.OpenRead(_key, _offset, n, _ct);
                    _currentLeft = n;
                    _chunk = Math.Min(MaxChunk, _chunk * 2);
                }
                int r = _current.Read(buffer, offset, (int)Math.Min(count, _currentLeft));
                if (r > 0)
                {
                    _offset += r;
                    _currentLeft -= r;
                    if (_currentLeft == 0) Next();
                    return r;
                }
                if (_currentLeft > 0) throw new IOException($"'{_store.Describe(_key)}' ended {_currentLeft} bytes early: it changed while it was read.");
                Next();
            }
        }

        private void Next()
        {
            _current?.Dispose();
            _current = null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) Next();
            base.Dispose(disposing);
        }
    }
}
