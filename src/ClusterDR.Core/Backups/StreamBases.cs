using System;
using System.IO;

namespace ClusterDR.Backups
{
    /// <summary>Base of the pass-through sinks (hashing, tee, tail, checks): only Write is theirs.</summary>
    public abstract class WriteOnlyStream : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Base of the pass-through sources (entry content, counting, re-hashing): only Read is theirs.</summary>
    public abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A write-through stream that counts what passes and optionally reports it (no hashing).</summary>
    public sealed class CountingWriteStream : WriteOnlyStream
    {
        private readonly Stream _inner;
        private readonly System.Action<long> _progress;

        public CountingWriteStream(Stream inner, System.Action<long> progress = null) { _inner = inner; _progress = progress; }

        public long Count { get; private set; }

        public override void Write(byte[] buffer, int offset, int count)
        {
            _inner.Write(buffer, offset, count);
            Count += count;
            _progress?.Invoke(Count);
        }

        public override void Flush() => _inner.Flush();
    }

    /// <summary>
    /// Passes writes on and swallows Flush. SharpZipLib's TarOutputStream flushes after every 10 KB record;
    /// on a GZipStream each flush is a zlib sync flush (an empty block, a write to the file), which
    /// more than doubled the cost of writing an archive and worsened compression.
    /// </summary>
    internal sealed class NoFlushStream : WriteOnlyStream
    {
        private readonly Stream _inner;
        public NoFlushStream(Stream inner) { _inner = inner; }
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override void Flush() { }
    }
}
