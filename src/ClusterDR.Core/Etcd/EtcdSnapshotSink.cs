using System;
using ClusterDR.Backups;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// The backup's way into the archive for a snapshot: forwards to the payload sink and checks etcd's
    /// trailing SHA-256 as the bytes pass. When the size is announced and the runtime can read a hash
    /// in progress, the check reuses the payload's own SHA-256 pass (its state just before the trailer):
    /// one hash pass instead of two. Otherwise an <see cref="EtcdSnapshotCheck"/> hashes a second time.
    /// </summary>
    internal sealed class EtcdSnapshotSink : WriteOnlyStream
    {
        private const int TrailerLength = 32;
        private readonly PayloadSink _sink;
        private readonly string _what;
        private readonly byte[] _trailer = new byte[TrailerLength];
        private EtcdSnapshotCheck _separate;
        private long _dbEnd = -1, _written;
        private int _trailerCount;
        private byte[] _dbHash;

        public EtcdSnapshotSink(PayloadSink sink, string what) { _sink = sink; _what = what; }

        /// <summary>The snapshot's exact size (db + trailer), before the first write.</summary>
        public void DeclareLength(long size)
        {
            _sink.DeclareLength(size);
            if (_sink.CanPeekHash && size >= TrailerLength) _dbEnd = size - TrailerLength;
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_dbEnd < 0)
            {
                if (_separate == null) _separate = new EtcdSnapshotCheck(_what);
                _separate.Write(buffer, offset, count);
                _sink.Write(buffer, offset, count);
                return;
            }
            int before = (int)Math.Min(count, Math.Max(0, _dbEnd - _written));
            if (before > 0) _sink.Write(buffer, offset, before);
            _written += before;
            if (_written == _dbEnd && _dbHash == null) _dbHash = _sink.CurrentHash();
            int rest = count - before;
            if (rest == 0) return;
            int keep = Math.Min(rest, TrailerLength - _trailerCount);
            Buffer.BlockCopy(buffer, offset + before, _trailer, _trailerCount, keep);
            _trailerCount += keep;
            // Anything past the trailer is more than etcd announced: the payload sink refuses it.
            _sink.Write(buffer, offset + before, rest);
            _written += rest;
        }

        /// <summary>Throws EtcdSnapshotHashMismatch unless the trailer is the SHA-256 of everything before it.</summary>
        public void Complete()
        {
            if (_separate != null || _dbEnd < 0)
            {
                (_separate ?? new EtcdSnapshotCheck(_what)).Complete();
                return;
            }
            if (_dbHash == null || _trailerCount < TrailerLength) throw EtcdSnapshotCheck.Mismatch(_what, $"it is only {_written} bytes long");
            for (int i = 0; i < TrailerLength; i++)
                if (_dbHash[i] != _trailer[i]) throw EtcdSnapshotCheck.Mismatch(_what, "its trailing SHA-256 does not match its content");
        }
    }
}
