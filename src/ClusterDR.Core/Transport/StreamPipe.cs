using System;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using ClusterDR.Backups;

namespace ClusterDR.Transport
{
    /// <summary>
    /// A bounded in-memory pipe between two threads: one side writes (a node's stdout, a tar being
    /// built), the other reads (a tar parser, a node's stdin). Lets a pull-style reader consume a
    /// push-style stream, or the reverse, without staging: at most <c>capacity</c> chunks are held.
    /// Either side can fail the pipe; the other side then gets an IOException instead of blocking.
    /// </summary>
    public sealed class StreamPipe
    {
        private readonly BlockingCollection<byte[]> _chunks;
        private readonly CancellationTokenSource _broken = new CancellationTokenSource();
        private volatile string _failure;

        public StreamPipe(int capacity = 64)
        {
            _chunks = new BlockingCollection<byte[]>(capacity);
            Writer = new PipeWriter(this);
            Reader = new PipeReader(this);
        }

        public Stream Writer { get; }
        public Stream Reader { get; }

        /// <summary>The writing side is done: the reader sees end of stream after the queued chunks.</summary>
        public void CompleteWriting() { try { _chunks.CompleteAdding(); } catch (ObjectDisposedException) { } }

        /// <summary>Breaks the pipe from either side: pending and later reads and writes throw.</summary>
        public void Fail(string why)
        {
            _failure = why ?? "the other side of the pipe stopped";
            _broken.Cancel();
            CompleteWriting();
        }

        private IOException Broken() => new IOException("The stream was cut: " + _failure);

        private sealed class PipeWriter : WriteOnlyStream
        {
            private readonly StreamPipe _p;
            public PipeWriter(StreamPipe p) { _p = p; }
            public override void Write(byte[] buffer, int offset, int count)
            {
                if (count == 0) return;
                if (_p._failure != null) throw _p.Broken();
                var copy = new byte[count];
                Buffer.BlockCopy(buffer, offset, copy, 0, count);
                try { _p._chunks.Add(copy, _p._broken.Token); }
                catch (Exception ex) when (ex is OperationCanceledException || ex is InvalidOperationException) { throw _p.Broken(); }
            }
            protected override void Dispose(bool disposing) { if (disposing) _p.CompleteWriting(); base.Dispose(disposing); }
        }

        private sealed class PipeReader : ReadOnlyStream
        {
            private readonly StreamPipe _p;
            private byte[] _current;
            private int _pos;
            public PipeReader(StreamPipe p) { _p = p; }
            public override int Read(byte[] buffer, int offset, int count)
            {
                while (_current == null || _pos >= _current.Length)
                {
                    if (_p._failure != null) throw _p.Broken();
                    try
                    {
                        if (!_p._chunks.TryTake(out _current, Timeout.Infinite, _p._broken.Token)) return 0;
                    }
                    catch (OperationCanceledException) { throw _p.Broken(); }
                    _pos = 0;
                }
                int n = Math.Min(count, _current.Length - _pos);
                Buffer.BlockCopy(_current, _pos, buffer, offset, n);
                _pos += n;
                return n;
            }
        }
    }
}
