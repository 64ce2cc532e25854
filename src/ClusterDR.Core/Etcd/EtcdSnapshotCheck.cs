using System;
using System.IO;
using System.Security.Cryptography;
using ClusterDR.Backups;

namespace ClusterDR.Etcd
{
    /// <summary>
    /// An etcd v3 snapshot file ends with the SHA-256 of everything before it (etcdctl snapshot
    /// restore checks it). This sink hashes all but the last 32 bytes as they stream and compares.
    /// </summary>
    public sealed class EtcdSnapshotCheck : WriteOnlyStream, IPayloadCheck
    {
        private const int TrailerLength = 32;
        private readonly SHA256 _sha = SHA256.Create();
        private readonly byte[] _tail = new byte[TrailerLength];
        private int _tailCount;
        private readonly string _what;

        public EtcdSnapshotCheck(string what) { _what = what; }

        public long Length_ { get; private set; }
        public string Description => "etcd snapshot SHA-256 trailer matches";
        public Stream Sink => this;

        public override void Write(byte[] buffer, int offset, int count)
        {
            Length_ += count;
            // Keep the last 32 bytes back: only bytes that can no longer be part of the trailer get hashed.
            int total = _tailCount + count;
            int release = total - TrailerLength;
            if (release <= 0)
            {
                Buffer.BlockCopy(buffer, offset, _tail, _tailCount, count);
                _tailCount += count;
                return;
            }
            int fromTail = Math.Min(release, _tailCount);
            if (fromTail > 0) _sha.TransformBlock(_tail, 0, fromTail, null, 0);
            int fromBuffer = release - fromTail;
            if (fromBuffer > 0) _sha.TransformBlock(buffer, offset, fromBuffer, null, 0);
            // New tail: what is left of the old tail, then the rest of this buffer.
            int keepOld = _tailCount - fromTail;
            if (keepOld > 0) Buffer.BlockCopy(_tail, fromTail, _tail, 0, keepOld);
            Buffer.BlockCopy(buffer, offset + fromBuffer, _tail, keepOld, count - fromBuffer);
            _tailCount = keepOld + count - fromBuffer;
        }

        public void Complete()
        {
            if (_tailCount < TrailerLength)
                throw Mismatch(_what, $"it is only {Length_} bytes long");
            _sha.TransformFinalBlock(new byte[0], 0, 0);
            var hash = _sha.Hash;
            for (int i = 0; i < TrailerLength; i++)
                if (hash[i] != _tail[i]) throw Mismatch(_what, "its trailing SHA-256 does not match its content");
        }

        internal static ClusterDrException Mismatch(string what, string why) =>
            new ClusterDrException(ErrorIds.SnapshotHashMismatch, ErrorKind.InvalidData,
                $"The etcd snapshot {what} is not intact: {why}. etcdctl snapshot restore would refuse it.", what, surfaceAsIs: true);

        protected override void Dispose(bool disposing) { if (disposing) _sha.Dispose(); base.Dispose(disposing); }
        public override long Length => Length_;
        public override long Position { get => Length_; set => throw new NotSupportedException(); }
    }

    /// <summary>Registers the trailer check for the snapshot file of etcd backups.</summary>
    public sealed class EtcdPayloadChecks : IPayloadCheckProvider
    {
        public IPayloadCheck For(BackupManifest manifest, ManifestFile file) =>
            string.Equals(manifest.Kind, EtcdBackup.Kind, StringComparison.OrdinalIgnoreCase) && file.Path == EtcdBackup.SnapshotFile
                ? new EtcdSnapshotCheck(file.Path)
                : null;
    }
}
